"""Core: the session itself (hello, join), movement, state frames, errors, ping and bye.

``CoreError`` holds the codes the codec, the session table and the core
handlers use; `protocol.errors.ErrorCode` is the same class.
"""

from __future__ import annotations

from typing import Final

from protocol.messages.common import (
    AVATAR,
    COLOR,
    COORD,
    ENTITY_ID,
    MAX_COORD,
    NAME,
    REASON,
    ROLE,
    U32,
    YAW,
)
from protocol.spec import ALL_PHASES, FeatureProtocol, Field, c2s, documented, optional, s2c


class CoreError:
    """Error codes of the core feature: the codec, the session table, movement and access."""

    BAD_MSGPACK: Final = "bad_msgpack"
    NOT_A_MESSAGE: Final = "not_a_message"
    UNKNOWN_TYPE: Final = "unknown_type"
    MISSING_FIELD: Final = "missing_field"
    UNKNOWN_FIELD: Final = "unknown_field"
    BAD_FIELD: Final = "bad_field"
    TOO_LONG: Final = "too_long"
    TOO_SHORT: Final = "too_short"
    OUT_OF_RANGE: Final = "out_of_range"
    NOT_FINITE: Final = "not_finite"
    BAD_STATE: Final = "bad_state"
    BAD_VERSION: Final = "bad_version"
    BAD_TOKEN: Final = "bad_token"
    BAD_CITIZEN_KEY: Final = "bad_citizen_key"
    SIGNED_OUT: Final = "signed_out"
    NO_SUCH_SESSION: Final = "no_such_session"
    NOT_CONFIRMED: Final = "not_confirmed"
    FORBIDDEN: Final = "forbidden"
    RATE_LIMITED: Final = "rate_limited"
    MOVE_TOO_FAR: Final = "move_too_far"
    UNKNOWN_ENTITY: Final = "unknown_entity"
    SPACE_FULL: Final = "space_full"
    INTERNAL: Final = "internal"
    NOT_READY: Final = "not_ready"


E = CoreError

ERRORS = documented(
    CoreError,
    {
        E.BAD_MSGPACK: "The binary message is not valid MessagePack.",
        E.NOT_A_MESSAGE: "The message is not a map with a string field 't', or is a text frame.",
        E.UNKNOWN_TYPE: "No message of this type may be sent in this direction.",
        E.MISSING_FIELD: "A required field is missing.",
        E.UNKNOWN_FIELD: "The message has a field its type does not define.",
        E.BAD_FIELD: "A field has the wrong kind, or an enum field an unknown value.",
        E.TOO_LONG: "A string, binary, list or the whole message is longer than allowed.",
        E.TOO_SHORT: "A string, binary or list is shorter than allowed.",
        E.OUT_OF_RANGE: "A number lies outside its field's range.",
        E.NOT_FINITE: "A number is NaN or infinite.",
        E.BAD_STATE: "The message is not allowed in the session's current phase.",
        E.BAD_VERSION: "hello named a protocol version the server does not speak; a close follows.",
        E.BAD_TOKEN: "The role token in hello is malformed, forged or expired; a close follows.",
        E.BAD_CITIZEN_KEY: "hello.citizen did not verify; the session goes on with a new identity.",
        E.SIGNED_OUT: "The handshake's sign-in cookie names a session that ended or was revoked;"
        " a close (4010) follows. Sign in again.",
        E.NO_SUCH_SESSION: "session_revoke named a session id that is not live.",
        E.NOT_CONFIRMED: "my_data_erase needs confirm = true.",
        E.FORBIDDEN: "The session's role may not send this message.",
        E.RATE_LIMITED: "Messages arrived faster than the rate limit; some were dropped.",
        E.MOVE_TOO_FAR: "A move asked for far more distance than the speed limit allows.",
        E.UNKNOWN_ENTITY: "No avatar has the given entity id.",
        E.SPACE_FULL: "The world has no room for another avatar.",
        E.INTERNAL: "The server failed to handle the message; it was not applied.",
        E.NOT_READY: "In a cluster: the process that runs this feature for everyone (the"
        " feature home) is not known yet, or is taking over; the message was not applied."
        " Try again in a moment.",
    },
)

STR_MAP = Field("map", doc="name in each UI language")
"""A map of BCP 47 language tag -> text (keys are not fixed)."""

_FLOAT = Field("float", min=-MAX_COORD, max=MAX_COORD)
POINT = Field("list", items=_FLOAT, min_len=2, max_len=2, doc="[x, z] in metres")
RECT = Field("list", items=_FLOAT, min_len=4, max_len=4, doc="[x0, z0, x1, z1] in metres")
SEGMENT = Field("list", items=_FLOAT, min_len=4, max_len=4, doc="a wall from (x0, z0) to (x1, z1)")
WORLD_ID = Field("str", min_len=1, max_len=64)
LABEL = Field("str", max_len=200)

WORLD = Field(
    "map",
    fields={
        "name": Field("str", max_len=200, doc="the world's name"),
        "bounds": RECT,
        "spawn": POINT,
        "zones": Field(
            "list",
            max_len=4096,
            items=Field("map", fields={"id": WORLD_ID, "kind": LABEL, "rect": RECT}),
            doc="areas (lobby, hall, ...); the first holding a point is its zone",
        ),
        "walls": Field("list", max_len=4096, items=SEGMENT, doc="wall segments"),
        "stage": Field(
            "map",
            fields={
                "zone": optional(Field("str", max_len=64, doc="the zone it stands in")),
                "rect": optional(RECT),
                "height": optional(Field("float", min=0, max=1000, doc="metres")),
            },
            doc="a raised platform; empty when the world has none",
        ),
        "services": Field(
            "list",
            max_len=4096,
            items=Field(
                "map",
                fields={
                    "id": Field("str", min_len=1, max_len=32, doc="the id take_ticket names"),
                    "letter": Field("str", max_len=8, doc="the ticket prefix, e.g. A"),
                    "name": STR_MAP,
                    "target_wait_s": Field(
                        "float", min=0, max=1e9, doc="the service level's target wait, seconds"
                    ),
                },
            ),
            doc="what citizens can queue for",
        ),
        "languages": Field(
            "list",
            max_len=4096,
            items=Field("str", min_len=2, max_len=16),
            doc="languages citizens can ask to be served in",
        ),
        "timezone": Field("str", max_len=64, doc="the service point's IANA time zone"),
        "kiosks": Field(
            "list",
            max_len=256,
            items=Field(
                "map",
                fields={"id": WORLD_ID, "position": POINT, "names": STR_MAP},
            ),
            doc="feedback kiosks citizens walk up to (survey_request)",
        ),
        "qa_wall": optional(
            Field(
                "map",
                fields={"position": POINT, "yaw": YAW, "names": STR_MAP},
                doc="the Q&A wall's board in the hall (choosing it opens the Q&A panel)",
            )
        ),
        "greeter": optional(
            Field(
                "map",
                fields={"position": POINT, "yaw": YAW, "names": STR_MAP},
                doc="where the automated greeter stands at the entrance",
            )
        ),
        "practice_desks": Field(
            "list",
            max_len=256,
            items=Field(
                "map",
                fields={"id": WORLD_ID, "position": POINT, "yaw": YAW, "names": STR_MAP},
            ),
            doc="practice desks of the training zone (training_start); citizens stand 2 m in front",
        ),
        "seats": Field(
            "list",
            max_len=1024,
            items=Field(
                "map",
                fields={
                    "position": POINT,
                    "yaw": YAW,
                    "count": Field("int", min=1, max=200, doc="seats in each row"),
                    "spacing": Field("float", min=0.4, max=5, doc="metres between seats"),
                    "rows": Field("int", min=1, max=100, doc="rows, one behind the other"),
                    "row_spacing": Field("float", min=0.4, max=5, doc="metres between rows"),
                },
            ),
            doc="blocks of seats (waiting, audience): position is the front row's middle,"
            " facing yaw; further rows stand behind it",
        ),
        "doors": Field(
            "list",
            max_len=256,
            items=SEGMENT,
            doc="openings in the outer edge, each a segment along one side of the bounds",
        ),
        "desks": Field(
            "list",
            max_len=4096,
            items=Field(
                "map",
                fields={
                    "id": Field("str", min_len=1, max_len=32),
                    "name": Field("str", max_len=200, doc="fallback name"),
                    "services": Field(
                        "list", max_len=4096, items=Field("str", min_len=1, max_len=32)
                    ),
                    "position": POINT,
                    "yaw": YAW,
                    "names": STR_MAP,
                },
            ),
            doc="where staff serve; citizens stand 2 m in front",
        ),
    },
    doc="the world layout",
)

LIMITS = Field(
    "map",
    fields={
        "max_speed": Field("float", min=0, max=1e9, doc="metres per second"),
        "chat_radius": Field("float", min=0, max=1e9, doc="metres a near chat reaches"),
        "interest_radius": Field("float", min=0, max=1e9, doc="metres within which avatars show"),
        "interest_k": Field("int", min=0, max=2**32 - 1, doc="most avatars in view"),
        "max_message_bytes": Field("int", min=0, max=2**32 - 1, doc="largest client message"),
        "rate_per_s": Field("float", min=0, max=1e9, doc="messages per second on average"),
        "rate_burst": Field("float", min=0, max=1e9, doc="messages in a burst"),
    },
    doc="the server's limits",
)

_ANY_PHASE = ALL_PHASES
SUBJECT = Field("str", min_len=1, max_len=140, doc="a person's identity (`sara.lind`)")
SESSION_ID = Field("str", min_len=1, max_len=64, doc="a session's public id")
SESSION_INFO = Field(
    "map",
    fields={
        "id": SESSION_ID,
        "role": ROLE,
        "created": Field("float", min=0, max=1e11, doc="seconds since the Unix epoch"),
        "expires": Field("float", min=0, max=1e11, doc="seconds since the Unix epoch"),
        "device": Field(
            "str", max_len=64, doc='the browser that signed in, e.g. "Chrome on Linux"'
        ),
        "current": Field("bool", doc="the session of this connection"),
    },
    doc="one sign-in session (never its token)",
)

CLIENT = (
    c2s(
        "hello",
        {
            "v": Field("int", min=1, max=65535, doc="the client's protocol version"),
            "token": optional(Field("str", min_len=1, max_len=2048, doc="signed role token")),
            "resume": optional(Field("str", min_len=1, max_len=64, doc="resume token")),
            "lang": optional(Field("str", min_len=2, max_len=16, doc="BCP 47 language tag")),
            "citizen": optional(
                Field(
                    "str",
                    min_len=1,
                    max_len=512,
                    doc="the citizen key from an earlier welcome; keep it private",
                )
            ),
        },
        "First message. Answered by welcome. A field that fails validation gets an error and "
        "the connection stays open (send hello again). A wrong version gets bad_version and a "
        "bad role token bad_token, each followed by a close. A citizen key that does not verify "
        "gets bad_citizen_key and the session goes on with a new identity.",
        phases=("hello",),
    ),
    c2s(
        "join",
        {"name": NAME, "color": optional(COLOR), "avatar": optional(AVATAR)},
        "Enter the world as an avatar. Answered by joined.",
        phases=("join",),
    ),
    c2s(
        "move",
        {"seq": U32, "x": COORD, "z": COORD, "yaw": YAW},
        "Where the avatar wants to be. The server clamps speed, bounds and walls.",
    ),
    c2s("ping", {"n": U32}, "Round-trip probe; answered by pong.", phases=_ANY_PHASE),
    c2s(
        "bye",
        {"reason": optional(REASON)},
        "Leave for good (no resume).",
        phases=_ANY_PHASE,
    ),
    c2s(
        "session_list",
        {"subject": optional(SUBJECT)},
        "List the live sign-in sessions of a person (default: one's own; another's: admins"
        " only). Answered by sessions.",
        phases=("join", "world"),
    ),
    c2s(
        "session_revoke",
        {"subject": optional(SUBJECT), "session": optional(SESSION_ID)},
        "End a session (one's own, or anyone's for admins) or every session of a person"
        " (admins; their role tokens issued until now are refused too). The connections are"
        " closed with 4010. Answered by session_revoked; no_such_session for an unknown id.",
        phases=("join", "world"),
    ),
    c2s(
        "my_data",
        {},
        "Export everything the server holds about the sender's identity (every feature's"
        " share: tickets, survey answers, Q&A posts, chat kept in zone history, event"
        " questions, blocks, verification). Answered by my_data parts.",
        phases=("join", "world"),
    ),
    c2s(
        "my_data_erase",
        {"confirm": Field("bool", doc="must be true")},
        "Erase everything the server holds about the sender's identity (anonymised where a"
        " record must stay, such as a queue statistic). Answered by my_data_erased, then a"
        " close (4011): the client forgets its citizen key and starts afresh.",
        phases=("join", "world"),
    ),
)

MY_DATA_PART: Final = 12_000
"""Characters of the export document per ``my_data`` message."""

SERVER = (
    s2c(
        "welcome",
        {
            "v": Field("int", min=1, max=65535),
            "session": Field("str", max_len=64),
            "resume": Field("str", max_len=64, doc="present it in hello to get the avatar back"),
            "resume_s": Field("int", min=0, max=86400, doc="how long the resume token lives"),
            "role": ROLE,
            "name": optional(NAME),
            "citizen": optional(
                Field(
                    "str",
                    max_len=512,
                    doc="a signed pseudonymous citizen key: store it privately, present it in "
                    "hello.citizen; never shown to others",
                )
            ),
            "resumed": Field("bool"),
            "verified": optional(
                Field("bool", doc="the citizen identity proved who it is at the eID broker")
            ),
            "tick_hz": Field("int", min=1, max=240),
            "world": WORLD,
            "limits": LIMITS,
        },
        "Answer to hello: the session, the role granted, the world layout and limits.",
    ),
    s2c(
        "joined",
        {"id": ENTITY_ID, "name": NAME, "x": COORD, "z": COORD, "yaw": YAW, "zone": Field("str")},
        "The avatar is in the world (after join, or after a successful resume).",
    ),
    s2c(
        "enter",
        {
            "e": Field(
                "list",
                max_len=4096,
                items=Field(
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
                ),
            )
        },
        "Avatars that came into view, with name and appearance (sent once per sighting).",
    ),
    s2c(
        "leave",
        {"ids": Field("list", items=ENTITY_ID, max_len=4096)},
        "Avatars that went out of view or left.",
    ),
    s2c(
        "f",
        {
            "k": U32,
            "i": optional(
                Field("bin", doc="uint32 LE ids of the updated avatars: absolute, then delta")
            ),
            "p": optional(Field("bin", doc="int16 LE x,z pairs in centimetres (absolute entries)")),
            "d": optional(Field("bin", doc="int8 dx,dz pairs in centimetres (delta entries)")),
            "r": optional(Field("bin", doc="uint16 LE yaw, 65536 per turn, one per id")),
            "ri": optional(Field("bin", doc="uint32 LE ids whose update rate changed")),
            "rs": optional(Field("bin", doc="uint8 log2 of each one's update interval in ticks")),
        },
        "State frame: the avatars in view that changed (near ones every tick, far ones"
        " every 2, 4 or 8 ticks), as absolute positions or deltas; at least one a second.",
    ),
    s2c(
        "correct",
        {"seq": U32, "x": COORD, "z": COORD, "yaw": YAW},
        "The server moved the avatar somewhere other than asked (clamped or blocked).",
    ),
    s2c("zone", {"zone": Field("str")}, "The avatar walked into another zone."),
    s2c(
        "error",
        {
            "code": Field("str"),
            "msg": Field("str"),
            "ref": optional(Field("str", doc="type of the message that caused it")),
        },
        "Something the client sent was refused; the connection stays open.",
    ),
    s2c("pong", {"n": U32}, "Answer to ping."),
    s2c(
        "load",
        {
            "rate": Field("float", min=0.0, max=1.0, doc="ticks run over ticks due, last second"),
            "busy": Field("bool", doc="true: others may move in jumps and answers come late"),
        },
        "How the hall keeps up: sent once a second while the server runs slower than its"
        " tick rate (the world slows down rather than dropping anyone), and once when it is"
        " on time again (busy false).",
    ),
    s2c("bye", {"reason": Field("str")}, "The server is closing the session."),
    s2c(
        "sessions",
        {"subject": SUBJECT, "sessions": Field("list", max_len=256, items=SESSION_INFO)},
        "A person's live sign-in sessions (answer to session_list).",
    ),
    s2c(
        "session_revoked",
        {
            "subject": optional(SUBJECT),
            "session": optional(SESSION_ID),
            "count": Field("int", min=0, max=2**32 - 1, doc="sessions ended"),
        },
        "Sessions were ended (answer to session_revoke).",
    ),
    s2c(
        "my_data",
        {
            "data": Field("str", max_len=MY_DATA_PART, doc="a part of the JSON document"),
            "part": Field("int", min=1, max=100_000, doc="this part's number, from 1"),
            "parts": Field("int", min=1, max=100_000, doc="how many parts; join them in order"),
        },
        "What the server holds about the sender, as one JSON document in parts (answer to"
        " my_data): one section per feature, keyed by kind of data.",
    ),
    s2c(
        "my_data_erased",
        {
            "removed": Field("int", min=0, max=2**32 - 1, doc="records deleted"),
            "anonymised": Field("int", min=0, max=2**32 - 1, doc="records kept without identity"),
        },
        "The sender's data was erased (answer to my_data_erase); a close (4011) follows.",
    ),
)

PROTOCOL = FeatureProtocol(
    "core",
    CLIENT,
    SERVER,
    ERRORS,
    doc="The session (hello, join, resume), movement and state frames, errors, ping and bye.",
)
