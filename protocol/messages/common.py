"""Field descriptions shared by several features.

Import the constants and wrap them with `protocol.spec.optional` where a
field may be left out. Every constant is a frozen `Field`, safe to share.
"""

from __future__ import annotations

from typing import Final

from protocol.spec import ROLES, Field

MAX_COORD: Final = 10_000.0
"""Codec bound on any coordinate; world bounds are enforced by movement rules."""

U32 = Field("int", min=0, max=2**32 - 1)
ENTITY_ID = Field("int", min=1, max=2**32 - 1, doc="entity id, stable for an avatar's life")
COORD = Field("float", min=-MAX_COORD, max=MAX_COORD, doc="metres")
YAW = Field("float", min=-1000.0, max=1000.0, doc="radians, any turn count")
NAME = Field("str", min_len=1, max_len=32, doc="display name")
CHAT_TEXT = Field("str", min_len=1, max_len=500)
COLOR = Field("int", min=0, max=0xFFFFFF, doc="0xRRGGBB")
AVATAR = Field("enum", values=("round", "tall", "box"), doc="avatar shape")
ROLE = Field("enum", values=ROLES)
SCOPE = Field("enum", values=("near", "zone"), doc="near: within the chat radius; zone: whole zone")
ZONE_ID = Field("str", max_len=32)
TIMESTAMP = Field("float", min=0, max=1e11, doc="seconds since the Unix epoch")
SERVICE_ID = Field("str", min_len=1, max_len=32, doc="a service id from the world")
LANG = Field("str", min_len=2, max_len=16, doc="BCP 47 language tag, e.g. sv, da, de, ja, en")
DESK_ID = Field("str", min_len=1, max_len=32)
REASON = Field("str", max_len=200)
PERSON = Field("map", fields={"id": ENTITY_ID, "name": NAME, "role": ROLE})
SAID = {"id": ENTITY_ID, "name": NAME, "role": ROLE, "text": CHAT_TEXT, "ts": TIMESTAMP}
"""The fields of a line someone said (announce, desk_say): who, what, when."""
