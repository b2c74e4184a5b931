"""Voice: WebRTC desk calls terminated by the server, Opus forwarded inside a room.

    router = VoiceRouter()                      # forward=True: no decode/re-encode
    await router.open_room("desk:3:A-014")
    answer = await router.join("desk:3:A-014", "citizen-17", offer_sdp)
    router.set_muted("desk:3:A-014", "citizen-17", True)
    await router.close_room("desk:3:A-014")

See docs/VOICE.md for how audio flows and what the benchmark measured.
"""

from __future__ import annotations

from server.voice.errors import CODES, VoiceError
from server.voice.router import MAX_MEMBERS, VoiceRouter, VoiceStats

__all__ = ["CODES", "MAX_MEMBERS", "VoiceError", "VoiceRouter", "VoiceStats"]
