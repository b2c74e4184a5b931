"""Moderation: official announcements, removing an avatar, blocks and reports.

A citizen may *block* another person: from then on neither sees the other's
chat nor hears the other's voice (event audio included). Blocks are kept by
identity, so they outlast reconnects. Anyone may *report* a person or a
message to the moderators; reports go to the moderation audit log.
"""

from __future__ import annotations

from typing import Final

from protocol.messages.common import CHAT_TEXT, ENTITY_ID, REASON, SAID
from protocol.spec import FeatureProtocol, Field, c2s, documented, optional, s2c

REPORT_REASONS: Final = ("abuse", "spam", "harassment", "personal_data", "other")


class ModerationError:
    """Error codes of moderation. It has none of its own: ``forbidden`` and
    ``unknown_entity`` are core codes."""


ERRORS = documented(ModerationError, {})

CLIENT = (
    c2s(
        "announce",
        {"text": CHAT_TEXT},
        "Official announcement to everyone in the sender's zone.",
    ),
    c2s(
        "kick",
        {"id": ENTITY_ID, "reason": optional(REASON)},
        "Remove an avatar from the space (moderation).",
    ),
    c2s(
        "block",
        {"id": ENTITY_ID, "on": Field("bool", doc="false: lift the block")},
        "Block a person: neither sees the other's chat or hears the other's voice.",
    ),
    c2s(
        "report",
        {
            "id": ENTITY_ID,
            "reason": Field("enum", values=REPORT_REASONS),
            "text": optional(Field("str", max_len=500, doc="the message reported, if one")),
        },
        "Report a person, or a message of theirs, to the moderators.",
    ),
)

SERVER = (
    s2c("announce", dict(SAID), "An official announcement."),
    s2c(
        "blocked",
        {"ids": Field("list", max_len=10_000, items=ENTITY_ID)},
        "The people present whom the sender has blocked.",
    ),
    s2c("reported", {"id": ENTITY_ID}, "The report was received by the moderators."),
)

PROTOCOL = FeatureProtocol(
    "moderation",
    CLIENT,
    SERVER,
    ERRORS,
    doc="Announcements; removing an avatar; blocking a person; reporting to moderators.",
)
