"""The Q&A wall: public questions, ideas, problems and praise; citizens answer each
other, staff give the official answer.

Every topic and reply is public. A post passes the personal-data detector
before anything is stored: one with an identity number, a phone number or an
e-mail address is *held* (``qa_held`` shows which part and why) and never
published, stored or indexed. Only a verified staff role can mark a reply as
the official answer; clients render that badge from the server's
``official`` object, never from text.

Q&A messages may be sent after ``hello`` (phase ``join``) as well as in the
world, so the standalone 2D page (``/qa.html``) uses the same protocol
without placing an avatar. Identity is the session's durable subject (a
citizen key's pseudonym, or a role token's subject); it is never sent to
other clients.
"""

from __future__ import annotations

from typing import Final

from protocol.messages.common import LANG, NAME, REASON, SERVICE_ID, TIMESTAMP
from protocol.spec import FeatureProtocol, Field, c2s, documented, optional, s2c


class QaError:
    """Error codes of the Q&A wall."""

    BAD_QUERY: Final = "bad_query"
    NO_SUCH_POST: Final = "no_such_post"
    NOT_AUTHOR: Final = "not_author"
    OWN_POST: Final = "own_post"
    NOT_OFFICIAL: Final = "not_official"
    READ_ONLY: Final = "read_only"
    BAD_PARENT: Final = "bad_parent"
    BAD_MERGE: Final = "bad_merge"
    POST_LIMIT: Final = "post_limit"
    VOTE_LIMIT: Final = "vote_limit"
    UNKNOWN_SERVICE: Final = "bad_service"
    STAFF_ONLY_TYPE: Final = "staff_only_type"
    EMPTY_EDIT: Final = "empty_edit"
    ALREADY_FLAGGED: Final = "already_flagged"
    NOT_ERASED: Final = "not_erased"
    CHANGED_ELSEWHERE: Final = "changed_elsewhere"


E = QaError

ERRORS = documented(
    QaError,
    {
        E.BAD_QUERY: "The search query has no letters or digits to search for.",
        E.NO_SUCH_POST: "No visible topic or reply has this id.",
        E.NOT_AUTHOR: "Only the post's author may do this (edit it, accept an answer on it).",
        E.OWN_POST: "People may not vote on or flag their own posts.",
        E.NOT_OFFICIAL: "Only verified staff may give an official answer or act as moderator.",
        E.READ_ONLY: "The topic is archived (read-only), closed to replies, or merged away.",
        E.BAD_PARENT: "A reply may answer the topic or a top-level reply of the same topic.",
        E.BAD_MERGE: "A topic cannot be merged into itself, a merged topic or an unknown one.",
        E.POST_LIMIT: "The identity posted more often than its rate limit allows; wait.",
        E.VOTE_LIMIT: "The identity voted or flagged faster than allowed; wait.",
        E.UNKNOWN_SERVICE: "The world has no service with this id.",
        E.STAFF_ONLY_TYPE: "Only staff may post an announcement.",
        E.EMPTY_EDIT: "An edit must change the title or the body.",
        E.ALREADY_FLAGGED: "The identity flagged this post already.",
        E.NOT_ERASED: "qa_erase_me needs confirm = true.",
        E.CHANGED_ELSEWHERE: "Other processes kept changing these posts while this change"
        " was written; nothing was changed. Try again.",
    },
)

TOPIC_TYPES: Final = ("question", "idea", "problem", "praise", "announcement")
STATUSES: Final = ("open", "answered", "official", "closed", "archived")
"""open: no answer yet; answered: a reply was accepted or a citizen answered; official: staff
gave the official answer; closed: no more replies; archived: read-only, kept for the record."""
FLAG_REASONS: Final = ("spam", "abuse", "personal_data", "off_topic")
STAFF_ROLES: Final = ("staff", "admin")
"""Roles whose replies are official (who may send what: `protocol.permissions`)."""
SORTS: Final = ("relevance", "newest", "votes", "overdue")
EXPORT_PART: Final = 500_000
"""Characters of the export document per ``qa_export`` message."""

POST_ID = Field("int", min=1, max=2**53, doc="a topic's or reply's id (one sequence)")
TITLE = Field("str", min_len=1, max_len=160, doc="a topic's title")
BODY = Field("str", min_len=1, max_len=5000, doc="plain text; never rendered as HTML")
QUERY = Field("str", max_len=200, doc="what the person typed; empty lists by ``sort``")
TOPIC_TYPE = Field("enum", values=TOPIC_TYPES)
STATUS = Field("enum", values=STATUSES)
REF = Field("int", min=0, max=2**31, doc="echoed in the answer, to match it to the question")

OFFICIAL = Field(
    "map",
    fields={
        "staff_name": NAME,
        "service": optional(SERVICE_ID),
        "ts": TIMESTAMP,
    },
    doc="set by the server only on a verified staff member's official answer",
)
POST = Field(
    "map",
    doc=(
        "a post as shown: id, topic, parent (replies), kind (topic|reply), type, title, body, "
        "lang, service, author_name, author_role, mine (bool), created, edited, votes, voted "
        "(bool), accepted (bool), official (OFFICIAL or absent), hidden ({reason} to staff and "
        "the author), pending (bool), status, needs_case, merged_into, replies (count), "
        "overdue (bool), answer_due (ts)"
    ),
)
POSTS = Field("list", max_len=500, items=POST)
FINDING = Field(
    "map",
    fields={
        "field": Field("enum", values=("title", "body")),
        "kind": Field("str", max_len=32, doc="personnummer, cpr, steuer_idnr, my_number, ..."),
        "start": Field("int", min=0, max=10000, doc="index of the first character"),
        "end": Field("int", min=0, max=10000, doc="index after the last character"),
        "reason": Field("str", max_len=200, doc="why it looks like personal data (English)"),
    },
)

_PHASES = ("join", "world")

CLIENT = (
    c2s(
        "qa_search",
        {
            "q": QUERY,
            "ref": optional(REF),
            "type": optional(TOPIC_TYPE),
            "service": optional(SERVICE_ID),
            "status": optional(STATUS),
            "lang": optional(Field("str", min_len=2, max_len=16, doc="the query's language")),
            "only_lang": optional(Field("str", min_len=2, max_len=16, doc="only topics in it")),
            "sort": optional(Field("enum", values=SORTS, doc="default: relevance, or newest")),
            "limit": optional(Field("int", min=1, max=50)),
        },
        "Search as you type (title prefix, stemmed, typo-tolerant), or list by ``sort``.",
        phases=_PHASES,
    ),
    c2s(
        "qa_get",
        {"topic": POST_ID},
        "A topic with its replies; a merged topic answers with its canonical one. Watches it.",
        phases=_PHASES,
    ),
    c2s(
        "qa_post",
        {
            "type": TOPIC_TYPE,
            "title": TITLE,
            "body": BODY,
            "lang": LANG,
            "service": optional(SERVICE_ID),
            "name": optional(NAME),
            "ref": optional(REF),
        },
        "Open a topic; held (``qa_held``) if it holds personal data.",
        phases=_PHASES,
    ),
    c2s(
        "qa_reply",
        {
            "topic": POST_ID,
            "body": BODY,
            "parent": optional(POST_ID),
            "official": optional(Field("bool", doc="staff only: this is the official answer")),
            "name": optional(NAME),
            "ref": optional(REF),
        },
        "Reply to a topic, or to a top-level reply (one level of threading).",
        phases=_PHASES,
    ),
    c2s(
        "qa_edit",
        {
            "post": POST_ID,
            "title": optional(TITLE),
            "body": optional(BODY),
            "ref": optional(REF),
        },
        "Edit one's own post; the earlier text is kept as a revision moderators can see.",
        phases=_PHASES,
    ),
    c2s(
        "qa_vote",
        {"post": POST_ID, "up": Field("bool", doc="true: vote (support, helpful); false: undo")},
        "One vote per identity on a topic (support) or a reply (helpful).",
        phases=_PHASES,
    ),
    c2s(
        "qa_accept",
        {"topic": POST_ID, "reply": optional(POST_ID)},
        "The asker accepts a reply as the answer (without ``reply``: takes it back).",
        phases=_PHASES,
    ),
    c2s(
        "qa_flag",
        {"post": POST_ID, "reason": Field("enum", values=FLAG_REASONS)},
        "Flag a post for moderators; weighted by the flagger's trust.",
        phases=_PHASES,
    ),
    c2s(
        "qa_moderate",
        {
            "post": POST_ID,
            "action": Field("enum", values=("hide", "restore", "approve")),
            "reason": REASON,
        },
        "Staff: hide or restore a post, or approve a pre-moderated one; the author is told.",
        phases=_PHASES,
    ),
    c2s(
        "qa_set",
        {
            "topic": POST_ID,
            "status": optional(Field("enum", values=("open", "closed", "archived"))),
            "needs_case": optional(Field("bool", doc="the matter needs a case at a desk")),
            "service": optional(SERVICE_ID),
        },
        "Staff: close, archive or reopen a topic; mark that it needs a case; set its service.",
        phases=_PHASES,
    ),
    c2s(
        "qa_merge",
        {"topic": POST_ID, "into": POST_ID},
        "Staff: merge a duplicate into its canonical topic; links to it then lead there.",
        phases=_PHASES,
    ),
    c2s(
        "qa_revisions",
        {"post": POST_ID},
        "Staff: a post's earlier versions.",
        phases=_PHASES,
    ),
    c2s(
        "qa_queue",
        {"service": optional(SERVICE_ID)},
        "Staff: questions waiting for an official answer, overdue first; and flagged posts.",
        phases=_PHASES,
    ),
    c2s(
        "qa_mine",
        {},
        "The sender's own topics and the notices kept for them (hidden, answered, ...).",
        phases=_PHASES,
    ),
    c2s(
        "qa_export_mine",
        {},
        "Everything the sender posted, voted and flagged, as JSON (GDPR art. 15/20).",
        phases=_PHASES,
    ),
    c2s(
        "qa_erase_me",
        {"confirm": Field("bool")},
        "Erase the sender's identity from the wall: posts anonymised, revisions purged, "
        "votes unlinked, search index cleaned (GDPR art. 17).",
        phases=_PHASES,
    ),
)

SERVER = (
    s2c(
        "qa_results",
        {
            "q": QUERY,
            "ref": optional(REF),
            "hits": POSTS,
            "total": Field("int", min=0, max=2**31),
        },
        "Matching topics, best first; each with its official or accepted answer's excerpt.",
    ),
    s2c(
        "qa_topic",
        {
            "topic": POST,
            "replies": POSTS,
            "redirected_from": optional(POST_ID),
        },
        "A topic and its visible replies (official answer first, then accepted, then by votes).",
    ),
    s2c(
        "qa_posted",
        {
            "ref": optional(REF),
            "post": POST,
        },
        "The sender's post or edit was stored (``pending`` when the service pre-moderates).",
    ),
    s2c(
        "qa_held",
        {
            "ref": optional(REF),
            "findings": Field("list", max_len=100, items=FINDING),
        },
        "The post was not published: these parts look like personal data. Nothing was stored.",
    ),
    s2c(
        "qa_update",
        {
            "topic": POST,
            "post": optional(POST),
        },
        "Live: a watched topic (or one of one's own) changed; ``post`` is the new or changed one.",
    ),
    s2c(
        "qa_notice",
        {
            "kind": Field(
                "enum", values=("hidden", "restored", "approved", "answered", "official", "merged")
            ),
            "topic": POST_ID,
            "post": POST_ID,
            "title": Field("str", max_len=160),
            "reason": optional(REASON),
            "ts": TIMESTAMP,
        },
        "To an author: what happened to their post (kept until they next ask with qa_mine).",
    ),
    s2c(
        "qa_wall",
        {"newest": POSTS, "top": POSTS},
        "The hall's Q&A board: the newest and the most-voted open questions.",
    ),
    s2c(
        "qa_revisions",
        {
            "post": POST_ID,
            "revisions": Field(
                "list",
                max_len=1000,
                items=Field(
                    "map",
                    fields={
                        "title": optional(Field("str", max_len=160)),
                        "body": Field("str", max_len=5000),
                        "ts": TIMESTAMP,
                    },
                ),
            ),
        },
        "Staff: the post's earlier versions, oldest first.",
    ),
    s2c(
        "qa_queue",
        {"waiting": POSTS, "flagged": POSTS},
        "Staff: open questions overdue first (``answer_due``), and posts with flags.",
    ),
    s2c(
        "qa_mine",
        {"topics": POSTS, "notices": Field("list", max_len=500, items=Field("map"))},
        "The sender's own topics and their kept notices.",
    ),
    s2c(
        "qa_export",
        {
            "data": Field("str", max_len=EXPORT_PART, doc="a part of the JSON document"),
            "part": Field("int", min=1, max=10_000, doc="this part's number, from 1"),
            "parts": Field("int", min=1, max=10_000, doc="how many parts; join them in order"),
        },
        "Everything the sender contributed, as JSON (posts, revisions, votes, flags), in parts.",
    ),
    s2c(
        "qa_erased",
        {"posts": Field("int", min=0, max=2**31), "votes": Field("int", min=0, max=2**31)},
        "The sender's identity is erased from the wall; their key starts afresh.",
    ),
)

PROTOCOL = FeatureProtocol(
    "qa",
    CLIENT,
    SERVER,
    ERRORS,
    doc="The public Q&A wall: topics, replies, votes, official answers, search as you type.",
)
