"""Events: launches and town halls in the auditorium, for hundreds to thousands.

A host or admin schedules an event (titles and descriptions per language,
local start and end in the service point's time zone, capacity, who may host
and speak). Citizens see the schedule, register for a reminder and join while
it is live. Joining seats them in the auditorium's main instance, or, when it
is full, in an *overflow instance*: a copy of the auditorium that sees the
stage's speakers, hears their voice and shows the same slide, one way.

Speaking is a server permission. A raised hand is a place in a queue the
hosts see; a host's promotion is an *invitation* the attendee must accept
before their microphone may open; packets from anyone not allowed to speak
are dropped in the server's media path, whatever their client does.

Listeners choose a path: WebRTC (``event_rtc_offer`` mode ``listen``, up to
a per-process budget) or the listen-only WebSocket path (``event_listen``
``ws``), on which the speakers' forwarded Opus packets ride with each state
frame (``event_audio``). Speakers publish with ``event_rtc_offer`` mode
``publish``.
"""

from __future__ import annotations

from typing import Final

from protocol.messages.common import ENTITY_ID, NAME, REASON, TIMESTAMP
from protocol.spec import FeatureProtocol, Field, c2s, documented, optional, s2c


class EventError:
    """Error codes of events."""

    NO_SUCH_EVENT: Final = "no_such_event"
    BAD_TIME: Final = "bad_time"
    NOT_LIVE: Final = "event_not_live"
    EVENT_FULL: Final = "event_full"
    BANNED: Final = "banned"
    NOT_IN_EVENT: Final = "not_in_event"
    NOT_HOST: Final = "not_host"
    NOT_INVITED: Final = "not_invited"
    NOT_SPEAKER: Final = "not_speaker"
    LISTENER_BUDGET: Final = "listener_budget"
    NO_SUCH_INSTANCE: Final = "no_such_instance"
    NO_SEAT: Final = "no_seat"
    QUESTION_LIMIT: Final = "question_limit"
    NO_SUCH_QUESTION: Final = "no_such_question"
    NO_UPLOAD: Final = "no_upload"
    UPLOAD_ORDER: Final = "upload_order"
    BAD_FILE: Final = "bad_file"
    FILE_TOO_LARGE: Final = "file_too_large"
    TOO_MANY_PAGES: Final = "too_many_pages"
    IMAGE_TOO_LARGE: Final = "image_too_large"
    RENDER_FAILED: Final = "render_failed"
    RENDER_TIMEOUT: Final = "render_timeout"
    NO_SLIDES: Final = "no_slides"


E = EventError

ERRORS = documented(
    EventError,
    {
        E.NO_SUCH_EVENT: "No scheduled event has this id.",
        E.BAD_TIME: "The start or end is not a local ISO time, or the event ends before it starts.",
        E.NOT_LIVE: "The event is not live: it has not started yet, it has ended or was cancelled.",
        E.EVENT_FULL: "Every instance of the event (the auditorium and its overflow) is full.",
        E.BANNED: "The identity is banned from this event or from the service point.",
        E.NOT_IN_EVENT: "The sender, or the person named, is not attending the event.",
        E.NOT_HOST: "Only a host of this event (or an admin) may do this.",
        E.NOT_INVITED: "There is no open invitation to speak to accept.",
        E.NOT_SPEAKER: "Only someone allowed to speak may publish audio to the stage.",
        E.LISTENER_BUDGET: "This server's WebRTC listeners are used up; listen on the WebSocket.",
        E.NO_SUCH_INSTANCE: "The event has no instance with this number.",
        E.NO_SEAT: "The instance asked for has no free seat.",
        E.QUESTION_LIMIT: "The sender asked or voted faster than the rate limit allows; wait.",
        E.NO_SUCH_QUESTION: "The event has no question with this id.",
        E.NO_UPLOAD: "No upload with this id is in progress for the sender.",
        E.UPLOAD_ORDER: "A chunk came out of order, or the upload is larger than announced.",
        E.BAD_FILE: "The file is not a PDF, PNG or JPEG, or not the type it claims to be.",
        E.FILE_TOO_LARGE: "The file is larger than the slide limit.",
        E.TOO_MANY_PAGES: "The PDF has more pages than the slide limit.",
        E.IMAGE_TOO_LARGE: "An image has more pixels than the slide limit.",
        E.RENDER_FAILED: "The PDF could not be rendered (damaged, or over the memory limit).",
        E.RENDER_TIMEOUT: "Rendering the PDF took longer than the limit and was stopped.",
        E.NO_SLIDES: "The event has no slides, or no page with this number.",
    },
)

SLIDE_TYPES: Final = ("application/pdf", "image/png", "image/jpeg")
CHUNK_BYTES: Final = 12 * 1024
"""Bytes of a slide upload per ``event_slides_chunk`` (the message limit is 16 KiB)."""
QUESTION_CHARS: Final = 500
STATUSES: Final = ("scheduled", "live", "ended", "cancelled")
LEFT_CODES: Final = (
    "left",
    "zone",
    "disconnected",
    "moved",
    "kicked",
    "banned",
    "ended",
    "cancelled",
)
"""Why an attendee left: by choice, walked out, connection, another event, a host's kick or
ban (``reason`` is the host's), the event ended or was cancelled."""

EVENT_ID = Field("int", min=1, max=2**31, doc="an event's id")
INSTANCE = Field("int", min=0, max=1000, doc="0: the auditorium; 1, 2, ...: overflow copies")
LOCAL_TIME = Field(
    "str",
    min_len=16,
    max_len=25,
    doc="local ISO time in the service point's zone, 2027-01-20T18:00",
)
TEXTS = Field("map", doc="language tag -> text (sv, da, de, ja, en); at least one")
SUBJECTS = Field(
    "list",
    max_len=50,
    items=Field("str", min_len=1, max_len=128),
    doc="role-token subjects",
)
EVENT = Field(
    "map",
    doc=(
        "an event as shown: id, title (lang -> text), description (lang -> text), starts, ends "
        "(ts), starts_local, ends_local (ISO), tz, zone, capacity, status, registered (bool), "
        "attendees (count), host (bool: the sender may host it)"
    ),
)
COUNTS = Field(
    "list",
    max_len=1000,
    items=Field(
        "map",
        fields={
            "instance": INSTANCE,
            "attendees": Field("int", min=0, max=2**31),
            "capacity": Field("int", min=0, max=2**31),
        },
    ),
    doc="attendees per instance",
)
QUESTION = Field(
    "map",
    doc="id, text (redacted), name, votes, voted, answered, mine (bools), ts, instance; to "
    "hosts also asker (the entity id, to moderate)",
)
SLIDE = Field(
    "map",
    doc="deck, page (from 1), pages, url (GET, an image), width, height",
)
PERSON_IN_EVENT = Field(
    "map",
    doc="id (entity), name, role, instance, since (ts, hands), until (ts, a timed promotion), "
    "muted (speakers: a host muted them)",
)

_ANY = ("join", "world")

CLIENT = (
    c2s(
        "event_schedule",
        {},
        "The schedule: upcoming and live events, soonest first.",
        phases=_ANY,
    ),
    c2s(
        "event_create",
        {
            "title": TEXTS,
            "description": optional(TEXTS),
            "starts": LOCAL_TIME,
            "ends": LOCAL_TIME,
            "capacity": Field("int", min=1, max=100_000, doc="seats of the main instance"),
            "hosts": optional(SUBJECTS),
            "speakers": optional(SUBJECTS),
        },
        "Schedule an event in the auditorium; the creator hosts it.",
        phases=_ANY,
    ),
    c2s(
        "event_cancel",
        {"event": EVENT_ID, "reason": optional(REASON)},
        "Cancel an event; attendees are told and leave the stage.",
        phases=_ANY,
    ),
    c2s(
        "event_register",
        {"event": EVENT_ID, "on": Field("bool")},
        "Register interest (a reminder in-world when it starts), or take it back.",
        phases=_ANY,
    ),
    c2s(
        "event_join",
        {"event": EVENT_ID},
        "Attend a live event: a seat in the auditorium or in an overflow instance.",
    ),
    c2s("event_leave", {}, "Stop attending (also on leaving the auditorium)."),
    c2s(
        "event_move",
        {"instance": INSTANCE},
        "Move to another instance with a free seat (e.g. the auditorium when one frees up).",
    ),
    c2s(
        "event_listen",
        {"path": Field("enum", values=("ws", "off"))},
        "Listen on the WebSocket (``event_audio`` with each frame), or stop.",
    ),
    c2s(
        "event_rtc_offer",
        {
            "mode": Field("enum", values=("publish", "listen")),
            "sdp": Field("str", min_len=1, max_len=12_000),
        },
        "WebRTC to the stage: publish (speakers only) or listen (within the budget).",
    ),
    c2s(
        "event_rtc_leave",
        {},
        "Close one's WebRTC connections to the stage.",
    ),
    c2s("event_hand", {"up": Field("bool")}, "Raise or lower one's hand."),
    c2s(
        "event_accept",
        {"accept": Field("bool")},
        "Answer an invitation to speak; only an accepted one opens the microphone.",
    ),
    c2s(
        "event_promote",
        {"id": ENTITY_ID, "seconds": optional(Field("int", min=0, max=3600, doc="0: no limit"))},
        "Host: invite an attendee to speak, for a time (default 90 s) or until demoted.",
    ),
    c2s(
        "event_demote",
        {"id": ENTITY_ID},
        "Host: take someone off the stage (their microphone closes).",
    ),
    c2s(
        "event_mute",
        {"id": optional(ENTITY_ID), "muted": Field("bool")},
        "Host: mute or unmute one speaker, or (without ``id``) mute every speaker but hosts. "
        "Unmuting only gives back permission; it never opens anyone's microphone.",
    ),
    c2s(
        "event_kick",
        {"id": ENTITY_ID, "reason": optional(REASON)},
        "Host: remove an attendee from the event.",
    ),
    c2s(
        "event_ban",
        {
            "id": ENTITY_ID,
            "scope": Field("enum", values=("event", "service_point")),
            "reason": optional(REASON),
        },
        "Host: ban a person (by identity, not name) from this event or the service point.",
    ),
    c2s(
        "event_ask",
        {"text": Field("str", min_len=1, max_len=QUESTION_CHARS), "name": optional(NAME)},
        "Put a written question to the hosts (personal identity numbers are redacted).",
    ),
    c2s(
        "event_vote",
        {"question": Field("int", min=1, max=2**31), "up": Field("bool")},
        "Upvote a question (or take the vote back).",
    ),
    c2s(
        "event_answered",
        {"question": Field("int", min=1, max=2**31)},
        "Host or current speaker: mark a question answered.",
    ),
    c2s(
        "event_caption",
        {
            "text": Field("str", min_len=1, max_len=300),
            "final": optional(Field("bool", doc="false: still being typed")),
        },
        "Captioner or host: a live caption line for every instance.",
    ),
    c2s(
        "event_slides_begin",
        {
            "type": Field("enum", values=SLIDE_TYPES),
            "size": Field("int", min=1, max=2**31),
            "name": optional(Field("str", max_len=200)),
        },
        "Host: start uploading slides (PDF, PNG or JPEG) in chunks for the event attended.",
    ),
    c2s(
        "event_slides_chunk",
        {
            "upload": Field("int", min=1, max=2**31),
            "seq": Field("int", min=0, max=2**31),
            "data": Field("bin", min_len=1, max_len=CHUNK_BYTES),
        },
        "Host: the next chunk of an upload, in order from 0.",
    ),
    c2s(
        "event_slides_end",
        {"upload": Field("int", min=1, max=2**31)},
        "Host: the upload is complete; the server validates and renders it.",
    ),
    c2s(
        "event_slide",
        {"page": Field("int", min=1, max=10_000)},
        "Host: show this page of the event's slides on every stage screen.",
    ),
)

SERVER = (
    s2c(
        "event_schedule",
        {"events": Field("list", max_len=500, items=EVENT), "tz": Field("str", max_len=64)},
        "Upcoming and live events, soonest first.",
    ),
    s2c("event_info", {"event": EVENT}, "An event was created, changed, started or ended."),
    s2c(
        "event_reminder",
        {"event": EVENT},
        "An event one registered for has started.",
    ),
    s2c(
        "event_joined",
        {
            "event": EVENT,
            "instance": INSTANCE,
            "counts": COUNTS,
            "host": Field("bool", doc="the sender hosts this event"),
        },
        "The sender attends the event, in this instance.",
    ),
    s2c(
        "event_left",
        {
            "event": EVENT_ID,
            "code": Field("enum", values=LEFT_CODES, doc="why, for the client's own words"),
            "reason": optional(REASON),
        },
        "The sender no longer attends (left, kicked, banned, the event ended).",
    ),
    s2c(
        "event_counts",
        {"event": EVENT_ID, "counts": COUNTS},
        "Attendees per instance (instance indicator; a free seat shows here).",
    ),
    s2c(
        "event_stage",
        {
            "event": EVENT_ID,
            "speakers": Field("list", max_len=100, items=PERSON_IN_EVENT),
            "slide": optional(SLIDE),
        },
        "Who is on stage and the current slide; the same in every instance.",
    ),
    s2c(
        "event_you",
        {
            "event": EVENT_ID,
            "hand": Field("bool"),
            "speaker": Field("bool", doc="allowed to speak now (microphone may open)"),
            "muted": Field("bool", doc="a host muted the sender"),
            "invited": optional(Field("int", min=0, max=3600, doc="seconds offered; answer it")),
            "until": optional(TIMESTAMP),
        },
        "The sender's own state in the event.",
    ),
    s2c(
        "event_hands",
        {"event": EVENT_ID, "queue": Field("list", max_len=10_000, items=PERSON_IN_EVENT)},
        "Hosts: raised hands in the order they were raised.",
    ),
    s2c(
        "event_questions",
        {"event": EVENT_ID, "questions": Field("list", max_len=10_000, items=QUESTION)},
        "All the event's questions, most votes first.",
    ),
    s2c("event_question", {"event": EVENT_ID, "question": QUESTION}, "A question changed."),
    s2c(
        "event_caption",
        {
            "event": EVENT_ID,
            "text": Field("str", max_len=300),
            "final": Field("bool"),
            "ts": TIMESTAMP,
        },
        "A live caption line.",
    ),
    s2c(
        "event_upload",
        {"upload": Field("int", min=1, max=2**31), "chunk": Field("int", min=1, max=CHUNK_BYTES)},
        "Host: send the file in chunks of this size to this upload.",
    ),
    s2c(
        "event_rtc_answer",
        {"mode": Field("enum", values=("publish", "listen")), "sdp": Field("str", max_len=20_000)},
        "The server's SDP answer.",
    ),
    s2c(
        "event_audio",
        {
            "e": EVENT_ID,
            "p": Field(
                "list",
                max_len=1000,
                items=Field("list", doc="[speaker entity id, RTP seq, RTP timestamp, Opus bin]"),
            ),
        },
        "Listen-only path: the speakers' Opus packets since the last frame, forwarded.",
    ),
)

PROTOCOL = FeatureProtocol(
    "events",
    CLIENT,
    SERVER,
    ERRORS,
    doc="Launches and town halls: schedule, stage, voice to every attendee, hands, overflow.",
)
