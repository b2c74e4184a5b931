"""The message catalogue: every message either side may send, as data.

The catalogue is the single source of truth for the wire protocol. The codec
(`protocol.codec`) validates against it, the session table
(`protocol.session`) refers to its type names, and the browser's twin
(`clients/web/src/protocol/catalogue.js`) is generated from it by
`python -m protocol.export` (a test checks the committed file is current).

Every message is one msgpack map with a string field ``"t"`` naming its type.
Field names are short because they are sent many times a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

PROTOCOL_VERSION = 1
"""Bumped on any incompatible change; a client sends it in ``hello``."""

Kind = Literal["str", "int", "float", "bool", "enum", "bin", "list", "map"]
Direction = Literal["c2s", "s2c"]

ROLES = ("citizen", "staff", "host", "admin")
"""Guests are citizens; the others join with a signed token."""

MAX_MESSAGE_BYTES = 16 * 1024
"""Largest WebSocket message a client may send; larger ones close with 1009."""

MAX_COORD = 10_000.0
"""Codec bound on any coordinate; world bounds are enforced by movement rules."""


@dataclass(frozen=True)
class Field:
    """One field of a message: its kind and the limits the codec enforces.

    ``min``/``max`` bound numbers; ``min_len``/``max_len`` bound the length of
    strings (in characters), bins (bytes) and lists (items).
    """

    kind: Kind
    required: bool = True
    min: float | None = None
    max: float | None = None
    min_len: int | None = None
    max_len: int | None = None
    values: tuple[str, ...] | None = None
    items: Field | None = None
    fields: dict[str, Field] | None = None
    doc: str = ""


@dataclass(frozen=True)
class MessageSpec:
    """A message type: direction, fields, and (client messages) who may send it."""

    type: str
    direction: Direction
    fields: dict[str, Field]
    doc: str
    roles: tuple[str, ...] = field(default=ROLES)


def _opt(f: Field) -> Field:
    return replace(f, required=False)


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
TIMESTAMP = Field("float", min=0, max=1e11, doc="seconds since the Unix epoch")
SERVICE_ID = Field("str", min_len=1, max_len=32, doc="a service id from the world")
LANG = Field("str", min_len=2, max_len=16, doc="BCP 47 language tag, e.g. sv, da, de, ja, en")
TICKET_ID = Field("str", min_len=1, max_len=16, doc="e.g. A-014")
DESK_ID = Field("str", min_len=1, max_len=32)
TICKET_STATUS = Field("enum", values=("waiting", "called", "serving", "done", "left", "no_show"))
DUTY_STATUS = Field("enum", values=("available", "break", "off"))
OUTCOME = Field("enum", values=("resolved", "referred", "no_show"))
SDP = Field("str", min_len=1, max_len=12000, doc="session description")
STAFF_ROLES = ("staff", "admin")
PERSON = Field("map", fields={"id": ENTITY_ID, "name": NAME, "role": ROLE})
ANY_MAP = Field("map")

ENTITY = Field(
    "map",
    fields={
        "id": ENTITY_ID,
        "name": NAME,
        "role": ROLE,
        "color": COLOR,
        "avatar": AVATAR,
        "x": COORD,
        "z": COORD,
        "yaw": YAW,
    },
    doc="an avatar's identity and appearance, sent once when it enters view",
)
CHAT_ITEM = Field(
    "map",
    fields={
        "id": ENTITY_ID,
        "name": NAME,
        "role": ROLE,
        "scope": SCOPE,
        "zone": Field("str", max_len=32),
        "text": CHAT_TEXT,
        "ts": TIMESTAMP,
    },
)

_C2S: list[MessageSpec] = [
    MessageSpec(
        "hello",
        "c2s",
        {
            "v": Field("int", min=1, max=65535, doc="the client's protocol version"),
            "token": _opt(Field("str", min_len=1, max_len=2048, doc="signed role token")),
            "resume": _opt(Field("str", min_len=1, max_len=64, doc="resume token")),
            "lang": _opt(Field("str", min_len=2, max_len=16, doc="BCP 47 language tag")),
        },
        "First message. Answered by welcome (or error then close).",
    ),
    MessageSpec(
        "join",
        "c2s",
        {"name": NAME, "color": _opt(COLOR), "avatar": _opt(AVATAR)},
        "Enter the world as an avatar. Answered by joined.",
    ),
    MessageSpec(
        "move",
        "c2s",
        {"seq": U32, "x": COORD, "z": COORD, "yaw": YAW},
        "Where the avatar wants to be. The server clamps speed, bounds and walls.",
    ),
    MessageSpec("chat", "c2s", {"scope": SCOPE, "text": CHAT_TEXT}, "Say something."),
    MessageSpec(
        "announce",
        "c2s",
        {"text": CHAT_TEXT},
        "Official announcement to everyone in the sender's zone.",
        roles=("staff", "host", "admin"),
    ),
    MessageSpec(
        "kick",
        "c2s",
        {"id": ENTITY_ID, "reason": _opt(Field("str", max_len=200))},
        "Remove an avatar from the space (moderation).",
        roles=("host", "admin"),
    ),
    MessageSpec(
        "duty",
        "c2s",
        {"status": DUTY_STATUS, "desk": _opt(DESK_ID)},
        "Staff: go on duty at a desk (available), take a break, or go off duty.",
        roles=STAFF_ROLES,
    ),
    MessageSpec(
        "take_ticket",
        "c2s",
        {"service": SERVICE_ID, "lang": LANG},
        "Join the queue for a service, to be served in a language. Answered by ticket.",
    ),
    MessageSpec("leave_queue", "c2s", {}, "Give up one's ticket."),
    MessageSpec("respond", "c2s", {}, "Answer a call: the citizen is at (or coming to) the desk."),
    MessageSpec(
        "call_next",
        "c2s",
        {},
        "Staff: call the longest-waiting ticket that matches one's skills and languages.",
        roles=STAFF_ROLES,
    ),
    MessageSpec(
        "auto_call",
        "c2s",
        {"on": Field("bool")},
        "Staff: call next automatically.",
        roles=STAFF_ROLES,
    ),
    MessageSpec(
        "transfer",
        "c2s",
        {
            "service": SERVICE_ID,
            "lang": _opt(LANG),
            "notes": _opt(Field("str", max_len=2000, doc="staff-only, for the next staff member")),
        },
        "Staff: send the current case to another service's queue, keeping its arrival time.",
        roles=STAFF_ROLES,
    ),
    MessageSpec(
        "close_case",
        "c2s",
        {"outcome": OUTCOME, "notes": _opt(Field("str", max_len=2000, doc="staff-only"))},
        "Staff: end the current case with an outcome and optional notes.",
        roles=STAFF_ROLES,
    ),
    MessageSpec(
        "invite",
        "c2s",
        {"id": ENTITY_ID},
        "Staff: add a third participant (an interpreter or colleague) to the desk call.",
        roles=STAFF_ROLES,
    ),
    MessageSpec("desk_say", "c2s", {"text": CHAT_TEXT}, "Text to the people in one's desk call."),
    MessageSpec(
        "rtc_offer",
        "c2s",
        {"sdp": SDP},
        "WebRTC offer for one's desk call; answered by rtc_answer.",
    ),
    MessageSpec(
        "rtc_ice",
        "c2s",
        {
            "candidate": Field("str", min_len=1, max_len=1024, doc="an a=candidate line's value"),
            "mid": _opt(Field("str", max_len=32, doc="sdpMid")),
            "mline": _opt(Field("int", min=0, max=16, doc="sdpMLineIndex")),
        },
        "A trickled ICE candidate (optional: offers may carry them all).",
    ),
    MessageSpec("mute", "c2s", {"muted": Field("bool")}, "Mute or unmute one's microphone."),
    MessageSpec("hangup", "c2s", {}, "Leave the voice part of one's desk call."),
    MessageSpec("ping", "c2s", {"n": U32}, "Round-trip probe; answered by pong."),
    MessageSpec(
        "bye", "c2s", {"reason": _opt(Field("str", max_len=200))}, "Leave for good (no resume)."
    ),
]

_S2C: list[MessageSpec] = [
    MessageSpec(
        "welcome",
        "s2c",
        {
            "v": Field("int", min=1, max=65535),
            "session": Field("str", max_len=64),
            "resume": Field("str", max_len=64, doc="present it in hello to get the avatar back"),
            "resume_s": Field("int", min=0, max=86400, doc="how long the resume token lives"),
            "role": ROLE,
            "name": _opt(NAME),
            "resumed": Field("bool"),
            "tick_hz": Field("int", min=1, max=240),
            "world": ANY_MAP,
            "limits": ANY_MAP,
        },
        "Answer to hello: the session, the role granted, the world layout and limits.",
    ),
    MessageSpec(
        "joined",
        "s2c",
        {"id": ENTITY_ID, "name": NAME, "x": COORD, "z": COORD, "yaw": YAW, "zone": Field("str")},
        "The avatar is in the world (after join, or after a successful resume).",
    ),
    MessageSpec(
        "enter",
        "s2c",
        {"e": Field("list", items=ENTITY, max_len=4096)},
        "Avatars that came into view, with name and appearance (sent once per sighting).",
    ),
    MessageSpec(
        "leave",
        "s2c",
        {"ids": Field("list", items=ENTITY_ID, max_len=4096)},
        "Avatars that went out of view or left.",
    ),
    MessageSpec(
        "f",
        "s2c",
        {
            "k": U32,
            "i": Field("bin", doc="uint32 LE entity ids"),
            "p": Field("bin", doc="int16 LE x,z pairs in centimetres"),
            "r": Field("bin", doc="uint16 LE yaw, 65536 per turn"),
        },
        "State frame: the quantised state of every avatar in view, once per tick.",
    ),
    MessageSpec(
        "correct",
        "s2c",
        {"seq": U32, "x": COORD, "z": COORD, "yaw": YAW},
        "The server moved the avatar somewhere other than asked (clamped or blocked).",
    ),
    MessageSpec("zone", "s2c", {"zone": Field("str")}, "The avatar walked into another zone."),
    MessageSpec(
        "chat",
        "s2c",
        dict(CHAT_ITEM.fields or {}),
        "A chat line from someone near, or in the zone.",
    ),
    MessageSpec(
        "history",
        "s2c",
        {"zone": Field("str"), "items": Field("list", items=CHAT_ITEM, max_len=200)},
        "Recent zone chat, oldest first, sent on joining a zone.",
    ),
    MessageSpec(
        "announce",
        "s2c",
        {"id": ENTITY_ID, "name": NAME, "role": ROLE, "text": CHAT_TEXT, "ts": TIMESTAMP},
        "An official announcement.",
    ),
    MessageSpec(
        "error",
        "s2c",
        {
            "code": Field("str"),
            "msg": Field("str"),
            "ref": _opt(Field("str", doc="type of the message that caused it")),
        },
        "Something the client sent was refused; the connection stays open.",
    ),
    MessageSpec(
        "ticket",
        "s2c",
        {
            "ticket": TICKET_ID,
            "service": SERVICE_ID,
            "lang": LANG,
            "status": TICKET_STATUS,
            "position": Field("int", min=0, max=100000, doc="1 = next; 0 = not waiting"),
            "wait_s": Field("int", min=0, max=10**7, doc="estimated seconds until called"),
            "desk": _opt(DESK_ID),
            "outcome": _opt(OUTCOME),
        },
        "The citizen's ticket, sent on taking it and whenever it changes.",
    ),
    MessageSpec(
        "called",
        "s2c",
        {
            "ticket": TICKET_ID,
            "desk": DESK_ID,
            "x": COORD,
            "z": COORD,
            "timeout_s": Field("int", min=0, max=3600),
        },
        "It is your turn: go to the desk at (x, z) and respond within timeout_s.",
    ),
    MessageSpec(
        "duty",
        "s2c",
        {"status": DUTY_STATUS, "desk": _opt(DESK_ID), "auto": Field("bool")},
        "Staff: one's duty status as the server holds it.",
    ),
    MessageSpec(
        "case",
        "s2c",
        {
            "ticket": TICKET_ID,
            "service": SERVICE_ID,
            "lang": LANG,
            "status": TICKET_STATUS,
            "citizen": ENTITY_ID,
            "name": NAME,
            "waited_s": Field("int", min=0, max=10**7),
            "notes": _opt(Field("list", items=Field("str", max_len=2000), max_len=50)),
        },
        "Staff: the case one has called or is serving (status done/no_show when it ends).",
    ),
    MessageSpec(
        "queue",
        "s2c",
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
                        "waiting_s": Field("int", min=0, max=10**7),
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
    MessageSpec(
        "call",
        "s2c",
        {
            "room": Field("str", max_len=64),
            "desk": DESK_ID,
            "members": Field("list", items=PERSON, max_len=8),
            "active": Field("bool"),
        },
        "One's desk call: who is in it; active false when it ends. Start WebRTC with rtc_offer.",
    ),
    MessageSpec("rtc_answer", "s2c", {"sdp": SDP}, "The server's WebRTC answer."),
    MessageSpec(
        "desk_say",
        "s2c",
        {"id": ENTITY_ID, "name": NAME, "role": ROLE, "text": CHAT_TEXT, "ts": TIMESTAMP},
        "Text within a desk call.",
    ),
    MessageSpec("pong", "s2c", {"n": U32}, "Answer to ping."),
    MessageSpec("bye", "s2c", {"reason": Field("str")}, "The server is closing the session."),
]

CLIENT_MESSAGES: dict[str, MessageSpec] = {m.type: m for m in _C2S}
SERVER_MESSAGES: dict[str, MessageSpec] = {m.type: m for m in _S2C}
