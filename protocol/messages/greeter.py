"""The greeter: an automated FAQ assistant at the entrance that hands over to a person.

The greeter is a separate process on the protocol (``agents/greeter.py``)
joining with a ``bot`` role token. A citizen talks to it with
``greeter_ask``; the server relays the question (redacted of personal data)
as ``greeter_asked`` to the bot, and the bot's ``greeter_reply`` back as
``greeter_said``, always marked ``automated``. The bot answers only from the
Q&A wall (it searches with ``qa_search`` like any client) and links the
source topic.

Handover: the bot proposes one (``greeter_handoff``: asked for a person,
two unhelpful answers, or a topic that needs a case); the citizen is asked
(``greeter_offer``) and only on their ``greeter_consent`` does the server
take a queue ticket for them, for the service and language named, with the
conversation's redacted transcript for the staff member who calls them. The
citizen can always ask for a person; the server never keeps them in a loop:
after the second unhelpful answer it offers the handover itself if the bot
has not.
"""

from __future__ import annotations

from typing import Final

from protocol.messages.common import ENTITY_ID, LANG, SERVICE_ID, TIMESTAMP
from protocol.spec import FeatureProtocol, Field, c2s, documented, optional, s2c


class GreeterError:
    """Error codes of the greeter."""

    NO_GREETER: Final = "no_greeter"
    NO_CONVERSATION: Final = "no_conversation"
    NO_OFFER: Final = "no_offer"
    GREETER_TAKEN: Final = "greeter_taken"


E = GreeterError

ERRORS = documented(
    GreeterError,
    {
        E.NO_GREETER: "No greeter assistant is connected at the moment; ask at a desk.",
        E.NO_CONVERSATION: "There is no open conversation with this id (or it is not yours).",
        E.NO_OFFER: "There is no handover waiting for the citizen's consent.",
        E.GREETER_TAKEN: "Another greeter process is connected; the newest one serves.",
    },
)

CONV_ID = Field("int", min=1, max=2**31, doc="a conversation's id")
TEXT = Field("str", min_len=1, max_len=1000, doc="plain text; never rendered as HTML")
HANDOFF_REASONS: Final = ("asked", "not_helpful", "needs_case", "no_answer")
REASON = Field("enum", values=HANDOFF_REASONS, doc="why the greeter hands over")
REPLY_KIND = Field(
    "enum",
    values=("greeting", "answer", "no_answer", "offer", "handed_over", "declined"),
    doc="greeting (says it is automated), an answer from a topic, no answer found, ...",
)
TOPIC_ID = Field("int", min=1, max=2**53, doc="the Q&A topic the answer comes from")

CLIENT = (
    c2s(
        "greeter_ask",
        {"text": TEXT, "lang": LANG},
        "Citizen: say something to the greeter (a question, or that you want a person).",
    ),
    c2s(
        "greeter_rate",
        {"conv": CONV_ID, "helpful": Field("bool")},
        "Citizen: the last answer helped, or did not.",
    ),
    c2s(
        "greeter_consent",
        {"conv": CONV_ID, "yes": Field("bool")},
        "Citizen: yes, take a queue ticket for me (or no, thank you).",
    ),
    c2s(
        "greeter_reply",
        {
            "conv": CONV_ID,
            "kind": REPLY_KIND,
            "text": TEXT,
            "topic": optional(TOPIC_ID),
            "official": optional(Field("bool", doc="the source is an official answer")),
        },
        "Bot: what to say to the citizen of a conversation.",
    ),
    c2s(
        "greeter_handoff",
        {
            "conv": CONV_ID,
            "reason": REASON,
            "service": SERVICE_ID,
            "text": TEXT,
        },
        "Bot: propose handing the citizen over to a person at ``service`` (asks consent).",
    ),
)

SERVER = (
    s2c(
        "greeter_said",
        {
            "conv": CONV_ID,
            "kind": REPLY_KIND,
            "text": TEXT,
            "automated": Field("bool", doc="always true: this is an automated assistant"),
            "topic": optional(TOPIC_ID),
            "official": optional(Field("bool")),
            "ts": TIMESTAMP,
        },
        "To the citizen: what the automated greeter says.",
    ),
    s2c(
        "greeter_offer",
        {
            "conv": CONV_ID,
            "reason": REASON,
            "service": SERVICE_ID,
            "text": TEXT,
        },
        "To the citizen: may the greeter take a queue ticket for you at ``service``?",
    ),
    s2c(
        "greeter_asked",
        {
            "conv": CONV_ID,
            "citizen": ENTITY_ID,
            "text": TEXT,
            "lang": LANG,
            "new": Field("bool", doc="the first message of the conversation"),
        },
        "To the bot: a citizen said this (redacted of personal data).",
    ),
    s2c(
        "greeter_rated",
        {"conv": CONV_ID, "helpful": Field("bool"), "unhelpful": Field("int", min=0, max=1000)},
        "To the bot: the citizen rated the last answer (``unhelpful``: how many so far).",
    ),
    s2c(
        "greeter_outcome",
        {
            "conv": CONV_ID,
            "handed_over": Field("bool"),
            "ticket": optional(Field("str", max_len=16)),
        },
        "To the bot and the citizen: the handover was accepted (a ticket) or declined.",
    ),
    s2c(
        "greeter_transcript",
        {
            "ticket": Field("str", max_len=16),
            "reason": REASON,
            "lang": LANG,
            "lines": Field(
                "list",
                max_len=200,
                items=Field(
                    "map",
                    fields={
                        "from": Field("enum", values=("citizen", "greeter")),
                        "text": Field("str", max_len=1000),
                        "topic": optional(TOPIC_ID),
                        "ts": TIMESTAMP,
                    },
                ),
            ),
        },
        "To the staff member who calls the ticket: the greeter conversation, redacted.",
    ),
)

PROTOCOL = FeatureProtocol(
    "greeter",
    CLIENT,
    SERVER,
    ERRORS,
    doc="The automated greeter at the entrance: FAQ answers from the Q&A wall, handover.",
)
