"""Desks: duty, the queue and tickets, calling citizens, cases, and text within a desk call."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from protocol.messages.common import (
    CHAT_TEXT,
    COORD,
    DESK_ID,
    ENTITY_ID,
    LANG,
    NAME,
    PERSON,
    SAID,
    SERVICE_ID,
)
from protocol.spec import FeatureProtocol, Field, c2s, documented, optional, s2c


class DeskError:
    """Error codes of the desks feature."""

    UNKNOWN_SERVICE: Final = "unknown_service"
    UNKNOWN_DESK: Final = "unknown_desk"
    UNSUPPORTED_LANGUAGE: Final = "unsupported_language"
    ALREADY_QUEUED: Final = "already_queued"
    NO_TICKET: Final = "no_ticket"
    DESK_TAKEN: Final = "desk_taken"
    NOT_ON_DUTY: Final = "not_on_duty"
    CASE_OPEN: Final = "case_open"
    NO_CASE: Final = "no_case"
    QUEUE_EMPTY: Final = "queue_empty"
    NOT_IN_CALL: Final = "not_in_call"
    BUSY: Final = "busy"
    NOT_ROSTERED: Final = "not_rostered"


E = DeskError

ERRORS = documented(
    DeskError,
    {
        E.UNKNOWN_SERVICE: "The world has no service with this id.",
        E.UNKNOWN_DESK: "The world has no desk with this id, or none was named.",
        E.UNSUPPORTED_LANGUAGE: "The language is not offered in this world.",
        E.ALREADY_QUEUED: "The citizen already holds a ticket.",
        E.NO_TICKET: "The citizen has no ticket in the state the message needs.",
        E.DESK_TAKEN: "Another staff member is on duty at that desk.",
        E.NOT_ON_DUTY: "The staff member is not on duty (off duty or on a break).",
        E.CASE_OPEN: "The staff member must close the current case first.",
        E.NO_CASE: "The staff member has no open case.",
        E.QUEUE_EMPTY: "Nobody the staff member can serve is waiting.",
        E.NOT_IN_CALL: "The sender is not in a desk call.",
        E.BUSY: "The person invited is in another desk call.",
        E.NOT_ROSTERED: "The staff member's roster (from their sign-in groups) names other desks.",
    },
)

TICKET_ID = Field("str", min_len=1, max_len=16, doc="e.g. A-014")
TICKET_STATUS = Field("enum", values=("waiting", "called", "serving", "done", "left", "no_show"))
DUTY_STATUS = Field("enum", values=("available", "break", "off"))
OUTCOME = Field("enum", values=("resolved", "referred", "no_show"))
SECONDS = Field("int", min=0, max=10**7)
BOARD_CALLS: Final = 8
"""How many of the latest calls ``desk_board`` carries."""

CLIENT = (
    c2s(
        "duty",
        {"status": DUTY_STATUS, "desk": optional(DESK_ID)},
        "Staff: go on duty at a desk (available), take a break, or go off duty.",
    ),
    c2s(
        "take_ticket",
        {"service": SERVICE_ID, "lang": LANG},
        "Join the queue for a service, to be served in a language. Answered by ticket.",
    ),
    c2s("leave_queue", {}, "Give up one's ticket."),
    c2s("respond", {}, "Answer a call: the citizen is at (or coming to) the desk."),
    c2s(
        "call_next",
        {},
        "Staff: call the longest-waiting ticket that matches one's skills and languages.",
    ),
    c2s(
        "auto_call",
        {"on": Field("bool")},
        "Staff: call next automatically.",
    ),
    c2s(
        "transfer",
        {
            "service": SERVICE_ID,
            "lang": optional(LANG),
            "notes": optional(
                Field("str", max_len=2000, doc="staff-only, for the next staff member")
            ),
        },
        "Staff: send the current case to another service's queue, keeping its arrival time.",
    ),
    c2s(
        "close_case",
        {"outcome": OUTCOME, "notes": optional(Field("str", max_len=2000, doc="staff-only"))},
        "Staff: end the current case with an outcome and optional notes.",
    ),
    c2s(
        "invite",
        {"id": ENTITY_ID},
        "Staff: add a third participant (an interpreter or colleague) to the desk call.",
    ),
    c2s("desk_say", {"text": CHAT_TEXT}, "Text to the people in one's desk call."),
)

SERVER = (
    s2c(
        "ticket",
        {
            "ticket": TICKET_ID,
            "service": SERVICE_ID,
            "lang": LANG,
            "status": TICKET_STATUS,
            "position": Field("int", min=0, max=100000, doc="1 = next; 0 = not waiting"),
            "wait_s": optional(
                Field(
                    "int",
                    min=0,
                    max=10**7,
                    doc="estimated seconds until called; absent when no staff on duty can "
                    "serve this ticket now (the wait is unknown)",
                )
            ),
            "desk": optional(DESK_ID),
            "outcome": optional(OUTCOME),
        },
        "The citizen's ticket, sent on taking it and whenever it changes.",
    ),
    s2c(
        "called",
        {
            "ticket": TICKET_ID,
            "desk": DESK_ID,
            "x": COORD,
            "z": COORD,
            "timeout_s": Field("int", min=0, max=3600),
        },
        "It is your turn: go to the desk at (x, z) and respond within timeout_s.",
    ),
    s2c(
        "duty",
        {
            "status": DUTY_STATUS,
            "desk": optional(DESK_ID),
            "auto": Field("bool"),
            "desks": optional(
                Field(
                    "list",
                    items=DESK_ID,
                    max_len=500,
                    doc="the desks one's roster allows; absent: any desk",
                )
            ),
        },
        "Staff: one's duty status as the server holds it (also on joining, when a sign-in"
        " roster names desks).",
    ),
    s2c(
        "case",
        {
            "ticket": TICKET_ID,
            "service": SERVICE_ID,
            "lang": LANG,
            "status": TICKET_STATUS,
            "citizen": ENTITY_ID,
            "name": NAME,
            "verified": optional(
                Field("bool", doc="the citizen proved who they are (no more is shown)")
            ),
            "waited_s": SECONDS,
            "notes": optional(Field("list", items=Field("str", max_len=2000), max_len=50)),
        },
        "Staff: the case one has called or is serving (status done/no_show when it ends).",
    ),
    s2c(
        "queue",
        {
            "tickets": Field(
                "list",
                max_len=500,
                items=Field(
                    "map",
                    fields={
                        "ticket": TICKET_ID,
                        "service": SERVICE_ID,
                        "lang": LANG,
                        "status": TICKET_STATUS,
                        "waiting_s": SECONDS,
                    },
                ),
            ),
            "staff": Field(
                "list",
                max_len=500,
                items=Field(
                    "map",
                    fields={"name": NAME, "desk": Field("str", max_len=32), "status": Field("str")},
                ),
            ),
        },
        "Staff: the queue and who is on duty, sent whenever either changes.",
    ),
    s2c(
        "call",
        {
            "room": Field("str", max_len=64),
            "desk": DESK_ID,
            "members": Field("list", items=PERSON, max_len=8),
            "active": Field("bool"),
        },
        "One's desk call: who is in it; active false when it ends. Start WebRTC with rtc_offer.",
    ),
    s2c("desk_say", dict(SAID), "Text within a desk call."),
    s2c(
        "desk_board",
        {
            "desks": Field(
                "list",
                max_len=500,
                items=Field(
                    "map",
                    fields={
                        "desk": DESK_ID,
                        "staffed": Field("bool", doc="someone is on duty there and available"),
                        "serving": optional(
                            replace(TICKET_ID, doc="the ticket called to or served at the desk")
                        ),
                    },
                ),
                doc="every desk of the world, in the world's order",
            ),
            "calls": Field(
                "list",
                max_len=BOARD_CALLS,
                items=Field("map", fields={"ticket": TICKET_ID, "desk": DESK_ID}),
                doc="the latest calls, newest first",
            ),
        },
        "Everyone in the service point (on entering, and whenever it changes; at most a few"
        " a second): the public queue display. Ticket and desk ids only, never a name.",
    ),
)

PROTOCOL = FeatureProtocol(
    "desks",
    CLIENT,
    SERVER,
    ERRORS,
    doc="Service desks: staff duty, the queue and tickets, calls to a desk, cases, desk text.",
)
