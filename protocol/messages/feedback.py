"""Feedback: a short survey after every desk case, whatever its outcome, and at the kiosk.

The server offers a ``survey`` when a case ends (resolved, referred, a
no-show, or the citizen leaving the queue) and when a citizen asks at a
feedback kiosk. One answer per survey: satisfaction 1–5, optionally "was it
easy?" 1–5 and a comment (redacted of personal data before it is stored).
A comment reaches the staff member who served only if the citizen says so.
"""

from __future__ import annotations

from typing import Final

from protocol.messages.common import DESK_ID, NAME, SERVICE_ID
from protocol.spec import FeatureProtocol, Field, c2s, documented, optional, s2c


class FeedbackError:
    """Error codes of the feedback feature."""

    NO_SURVEY: Final = "no_survey"
    ALREADY_ANSWERED: Final = "already_answered"
    UNKNOWN_KIOSK: Final = "unknown_kiosk"
    TOO_FAR: Final = "too_far"


E = FeedbackError

ERRORS = documented(
    FeedbackError,
    {
        E.NO_SURVEY: "There is no open survey with this id for the sender (not their case).",
        E.ALREADY_ANSWERED: "The survey was answered (or declined) already; one answer each.",
        E.UNKNOWN_KIOSK: "The world has no feedback kiosk with this id.",
        E.TOO_FAR: "The sender's avatar is not standing at the kiosk.",
    },
)

SURVEY_ID = Field("str", min_len=1, max_len=40, doc="the survey's id, from ``survey``")
RATING = Field("int", min=1, max=5, doc="1 (very dissatisfied) .. 5 (very satisfied)")
EASE = Field("int", min=1, max=5, doc="was it easy? 1 (very hard) .. 5 (very easy)")
COMMENT = Field("str", max_len=1000, doc="free text; personal data is redacted before storing")
SURVEY_KIND = Field(
    "enum", values=("case", "kiosk", "event"), doc="after a desk case, at a kiosk, after an event"
)
OUTCOME = Field("str", max_len=32, doc="resolved, referred, no_show, left, ...")
KIOSK_ID = Field("str", min_len=1, max_len=64)

CLIENT = (
    c2s(
        "survey_request",
        {"kind": Field("enum", values=("kiosk",)), "kiosk": KIOSK_ID},
        "Ask for the kiosk's survey while standing at it.",
    ),
    c2s(
        "survey_answer",
        {
            "survey": SURVEY_ID,
            "rating": RATING,
            "easy": optional(EASE),
            "comment": optional(COMMENT),
            "share": optional(
                Field("bool", doc="let the staff member who served read the comment")
            ),
        },
        "Answer a survey (once).",
    ),
    c2s(
        "survey_dismiss",
        {"survey": SURVEY_ID},
        "Decline a survey; it is not offered again.",
    ),
)

SERVER = (
    s2c(
        "survey",
        {
            "survey": SURVEY_ID,
            "kind": SURVEY_KIND,
            "service": optional(SERVICE_ID),
            "desk": optional(DESK_ID),
            "outcome": optional(OUTCOME),
            "staff_name": optional(NAME),
            "ref": optional(Field("str", max_len=64, doc="what it is about, e.g. an event's id")),
            "title": optional(Field("str", max_len=200, doc="e.g. the event's title")),
        },
        "A survey for the citizen to answer: after their case, or at a kiosk.",
    ),
    s2c(
        "survey_done",
        {"survey": SURVEY_ID, "answered": Field("bool")},
        "The survey is closed: answered, or declined.",
    ),
    s2c(
        "feedback_shared",
        {"service": SERVICE_ID, "rating": RATING, "comment": COMMENT},
        "To the staff member who served: a citizen chose to share their comment with them.",
    ),
)

PROTOCOL = FeatureProtocol(
    "feedback",
    CLIENT,
    SERVER,
    ERRORS,
    doc="Surveys after every case and at the kiosk: satisfaction, ease, a redacted comment.",
)
