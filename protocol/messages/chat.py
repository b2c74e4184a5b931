"""Chat: lines said near the speaker or to the whole zone, and a zone's recent history."""

from __future__ import annotations

from protocol.messages.common import (
    CHAT_TEXT,
    ENTITY_ID,
    NAME,
    ROLE,
    SCOPE,
    TIMESTAMP,
    ZONE_ID,
)
from protocol.spec import FeatureProtocol, Field, c2s, documented, s2c


class ChatError:
    """Error codes of the chat feature. It has none of its own: refusals use core codes."""


ERRORS = documented(ChatError, {})

CHAT_ITEM = Field(
    "map",
    fields={
        "id": ENTITY_ID,
        "name": NAME,
        "role": ROLE,
        "scope": SCOPE,
        "zone": ZONE_ID,
        "text": CHAT_TEXT,
        "ts": TIMESTAMP,
    },
)

CLIENT = (c2s("chat", {"scope": SCOPE, "text": CHAT_TEXT}, "Say something."),)

SERVER = (
    s2c(
        "chat",
        dict(CHAT_ITEM.fields or {}),
        "A chat line from someone near, or in the zone.",
    ),
    s2c(
        "history",
        {"zone": Field("str"), "items": Field("list", items=CHAT_ITEM, max_len=200)},
        "Recent zone chat, oldest first, sent on joining a zone.",
    ),
)

PROTOCOL = FeatureProtocol(
    "chat",
    CLIENT,
    SERVER,
    ERRORS,
    doc="Chat near the speaker or in the whole zone; zone history on entering a zone.",
)
