"""`VoiceSignalling`: connects a client's WebRTC offer to the voice room it is a member of.

Rooms are opened and closed by the features that own a conversation (a desk
call); this feature only carries signalling for whoever is a member, through
the voice port. Someone in no room gets ``not_in_call``; where voice is off
(``SERVICEPOINT_VOICE_ENABLED=false``) every request gets ``voice_unavailable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.codec import Message
from protocol.errors import ProtocolError
from protocol.messages import voice as wire
from server.plug import Feature, FeatureContext, Handler, Person, Sender, VoicePort
from server.voice.settings import VoiceSettings


class VoiceSignalling(Feature):
    name = "voice"
    personal_data = ()  # signalling only: nothing is stored
    protocol = wire.PROTOCOL
    Settings = VoiceSettings

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self._offers = ctx.metrics.counter(
            "offers", "WebRTC offers handled, by result.", ("result",)
        )

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "rtc_offer": self.on_offer,
            "rtc_ice": self.on_ice,
            "mute": self.on_mute,
            "hangup": self.on_hangup,
        }

    def at_home(self, sender: Sender) -> bool:
        """In a cluster: a call whose room is not on this process is the desks', at the
        feature home; its signalling goes there, and the media flows between the
        client and that process."""
        voice = self.ctx.voice
        return voice is not None and voice.room_of(sender.person.id) is None

    def _rooms(self) -> VoicePort:
        voice = self.ctx.voice
        if voice is None:
            raise ProtocolError(
                wire.VoiceErrorCode.VOICE_UNAVAILABLE, "Voice is not available here."
            )
        return voice

    async def on_offer(self, sender: Sender, msg: Message) -> None:
        try:
            answer = await self._rooms().connect(sender.person.id, msg["sdp"])
        except ProtocolError as exc:
            self._offers.labels(exc.code).inc()
            raise
        self._offers.labels("answered").inc()
        sender.reply({"t": "rtc_answer", "sdp": answer})

    async def on_ice(self, sender: Sender, msg: Message) -> None:
        candidate: dict[str, Any] = {"candidate": msg["candidate"]}
        if "mid" in msg:
            candidate["sdpMid"] = msg["mid"]
        if "mline" in msg:
            candidate["sdpMLineIndex"] = msg["mline"]
        await self._rooms().add_ice(sender.person.id, candidate)

    async def on_mute(self, sender: Sender, msg: Message) -> None:
        self._rooms().mute(sender.person.id, msg["muted"])

    async def on_hangup(self, sender: Sender, msg: Message) -> None:
        await self._rooms().hangup(sender.person.id)

    async def entered(self, person: Person, resumed: bool) -> None:
        # A resumed client makes a new offer; a peer left from a half-open socket
        # that the resume took over would otherwise linger until ICE gives up.
        if resumed and self.ctx.voice is not None:
            await self.ctx.voice.drop(person.id)

    async def left(self, person: Person, for_good: bool) -> None:
        # The peer connection ends with the client's connection either way; a
        # resumed client makes a new offer.
        if self.ctx.voice is not None:
            await self.ctx.voice.drop(person.id)
