"""Moderation: official announcements and removing an avatar."""

from __future__ import annotations

from protocol.messages.common import CHAT_TEXT, ENTITY_ID, REASON, SAID
from protocol.spec import FeatureProtocol, c2s, documented, optional, s2c


class ModerationError:
    """Error codes of moderation. It has none of its own: ``forbidden`` and
    ``unknown_entity`` are core codes."""


ERRORS = documented(ModerationError, {})

CLIENT = (
    c2s(
        "announce",
        {"text": CHAT_TEXT},
        "Official announcement to everyone in the sender's zone.",
        roles=("staff", "host", "admin"),
    ),
    c2s(
        "kick",
        {"id": ENTITY_ID, "reason": optional(REASON)},
        "Remove an avatar from the space (moderation).",
        roles=("host", "admin"),
    ),
)

SERVER = (s2c("announce", dict(SAID), "An official announcement."),)

PROTOCOL = FeatureProtocol(
    "moderation",
    CLIENT,
    SERVER,
    ERRORS,
    doc="Announcements by staff and hosts; hosts and admins can remove an avatar.",
)
