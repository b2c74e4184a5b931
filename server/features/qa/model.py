"""The Q&A wall's state: topics, replies, votes, official answers, flags, merges. Pure.

`Board` holds every post in memory (the store keeps each as JSON; see
`server.features.qa.feature`) and applies the rules; each operation takes the
actor and ``now``, raises `ProtocolError` with a qa code when refused, and
returns the ids of the posts it changed so the feature can persist, index and
announce exactly those. Views (`Board.view`) are per viewer: ``mine`` and
``voted`` depend on who looks, and hidden or pending posts are shown only to
their author and to staff.

Rules worth knowing:

- Only an actor whose *verified* role is staff or admin can give an official
  answer; the badge (``official``) is set here from the actor, never from text.
- One vote per identity per post; no votes on one's own posts.
- A topic's status follows its answers (open, answered once a reply is
  accepted, official once staff answered) unless staff closed or archived it.
- A merged topic points to its canonical topic (``merged_into``); its replies
  move there, and looking it up leads there.
- Flags weigh by the flagger's trust: new identities count less, established
  helpers and staff more; enough weight hides the post until staff look.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from protocol.errors import ProtocolError
from protocol.messages.qa import STAFF_ROLES, QaError

E = QaError

QUESTION_TYPES = ("question", "problem")
"""Topic types that wait for an official answer (and have a due time)."""
LIST_BODY_CHARS = 300
ANSWER_CHARS = 600
ERASED_NAME = ""
"""An erased author's display name (clients show "former participant")."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a durable subject (never shown), display name and verified role."""

    subject: str
    name: str
    role: str

    @property
    def staff(self) -> bool:
        return self.role in STAFF_ROLES

    @classmethod
    def of(cls, who: Any) -> Actor:
        """The actor behind a `Caller` or a `Person` (anything with subject, name, role)."""
        return cls(who.subject, who.name, who.role)


@dataclass
class Post:
    id: int
    kind: str  # "topic" | "reply"
    topic: int
    lang: str
    body: str
    author: str
    author_name: str
    author_role: str
    created: float
    title: str = ""
    type: str = ""
    service: str | None = None
    parent: int | None = None
    status: str = "open"
    edited: float | None = None
    voters: list[str] = field(default_factory=list)
    counted: list[str] = field(default_factory=list)
    """Everyone who ever voted (a helpful vote is counted for the scorecard once)."""
    accepted: int | None = None
    """Topics: the accepted reply."""
    official: dict[str, Any] | None = None
    """Replies: {staff_name, service, ts} on a verified staff member's official answer."""
    hidden: dict[str, Any] | None = None
    pending: bool = False
    needs_case: bool = False
    merged_into: int | None = None
    flags: dict[str, str] = field(default_factory=dict)
    voted_at: dict[str, float] = field(default_factory=dict)
    """When each identity in ``counted`` last voted up (for retention; votes stored before
    this was kept have none and count as made when the post was)."""
    flagged_at: dict[str, float] = field(default_factory=dict)
    """When each identity in ``flags`` flagged (for retention; likewise)."""
    erased: bool = False
    activity: float = 0.0
    """Topics: the time of the last reply or change (for retention)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Post:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Trust:
    """Settings of the flag weights (from the feature's settings)."""

    new_s: float = 86400.0
    new_weight: float = 0.5
    helper_weight: float = 2.0
    staff_weight: float = 3.0
    helper_answers: int = 3
    helper_votes: int = 10
    hide_at: float = 3.0


class Board:
    def __init__(self, trust: Trust | None = None) -> None:
        self.posts: dict[int, Post] = {}
        self.by_author: dict[str, list[int]] = {}
        """Post ids by author subject (trust, limits, export and erasure look them up)."""
        self.replies: dict[int, list[int]] = {}
        self.first_seen: dict[str, float] = {}
        self.trust = trust or Trust()

    # -- loading ----------------------------------------------------------------------

    def load(self, posts: Iterable[Post], first_seen: Mapping[str, float]) -> None:
        self.posts = {}
        self.by_author = {}
        for p in sorted(posts, key=lambda p: p.id):
            self._add(p)
        self.replies = {}
        for p in sorted(self.posts.values(), key=lambda p: p.id):
            if p.kind == "reply":
                self.replies.setdefault(p.topic, []).append(p.id)
        self.first_seen = dict(first_seen)

    def put(self, post: Post) -> None:
        """Take ``post`` as it now is (another process of the cluster changed it)."""
        old = self.posts.get(post.id)
        if old is not None and old.author != post.author and old.author:
            mine = self.by_author.get(old.author, [])
            if post.id in mine:
                mine.remove(post.id)
        was = old.topic if old is not None and old.kind == "reply" else post.topic
        if was != post.topic and post.id in self.replies.get(was, []):  # merged elsewhere
            self.replies[was].remove(post.id)
        self.posts[post.id] = post
        if post.author and post.id not in self.by_author.get(post.author, []):
            self.by_author.setdefault(post.author, []).append(post.id)
        if post.kind == "reply" and post.id not in self.replies.get(post.topic, []):
            self.replies.setdefault(post.topic, []).append(post.id)
            self.replies[post.topic].sort()

    def drop(self, post_id: int) -> None:
        """Forget a post another process removed."""
        old = self.posts.pop(post_id, None)
        if old is None:
            return
        if old.author and post_id in self.by_author.get(old.author, []):
            self.by_author[old.author].remove(post_id)
        if old.kind == "reply" and post_id in self.replies.get(old.topic, []):
            self.replies[old.topic].remove(post_id)
        self.replies.pop(post_id, None)

    # -- lookups ----------------------------------------------------------------------

    def get(self, post_id: int, viewer: Actor | None = None) -> Post:
        post = self.posts.get(post_id)
        if post is None or not self.visible(post, viewer):
            raise ProtocolError(E.NO_SUCH_POST, f"There is no post {post_id}.")
        return post

    def topic(self, topic_id: int, viewer: Actor | None = None) -> Post:
        post = self.get(topic_id, viewer)
        if post.kind != "topic":
            raise ProtocolError(E.NO_SUCH_POST, f"Post {topic_id} is a reply, not a topic.")
        return post

    def canonical(self, topic_id: int, viewer: Actor | None = None) -> tuple[Post, int | None]:
        """The topic a link leads to: itself, or the topic it was merged into (and from)."""
        post = self.posts.get(topic_id)
        if post is None or post.kind != "topic":
            raise ProtocolError(E.NO_SUCH_POST, f"There is no topic {topic_id}.")
        seen = {post.id}
        while post.merged_into is not None and post.merged_into in self.posts:
            post = self.posts[post.merged_into]
            if post.id in seen:
                break
            seen.add(post.id)
        if not self.visible(post, viewer):
            raise ProtocolError(E.NO_SUCH_POST, f"There is no topic {topic_id}.")
        return post, (topic_id if post.id != topic_id else None)

    def visible(self, post: Post, viewer: Actor | None) -> bool:
        if post.hidden is None and not post.pending:
            return True
        return viewer is not None and (viewer.staff or viewer.subject == post.author)

    def replies_of(self, topic: Post, viewer: Actor | None) -> list[Post]:
        """Visible replies: the official answer first, then the accepted one, then by votes."""
        out = [self.posts[r] for r in self.replies.get(topic.id, []) if r in self.posts]
        out = [r for r in out if self.visible(r, viewer)]
        return sorted(
            out,
            key=lambda r: (
                r.official is None,
                r.id != topic.accepted,
                -len(r.voters),
                r.id,
            ),
        )

    def best_answer(self, topic: Post) -> Post | None:
        """The answer to show with a topic in lists: official, else accepted, else the
        most helpful community reply (with at least one vote)."""
        public = [r for r in self.replies_of(topic, None) if r.parent is None]
        if not public:
            return None
        best = public[0]
        if best.official is None and best.id != topic.accepted and not best.voters:
            return None
        return best

    def authored(self, subject: str) -> list[Post]:
        return [self.posts[i] for i in self.by_author.get(subject, ()) if i in self.posts]

    def _add(self, post: Post) -> None:
        self.posts[post.id] = post
        if post.author:
            self.by_author.setdefault(post.author, []).append(post.id)

    # -- trust ------------------------------------------------------------------------

    def weight(self, actor: Actor, now: float) -> float:
        """How much a flag by ``actor`` weighs."""
        t = self.trust
        if actor.staff:
            return t.staff_weight
        first = self.first_seen.get(actor.subject, now)
        own = self.authored(actor.subject)
        if now - first < t.new_s or len(own) < 2:
            return t.new_weight
        accepted = sum(1 for p in own if p.kind == "reply" and self._is_accepted(p))
        votes = sum(len(p.voters) for p in own if p.kind == "reply")
        if accepted >= t.helper_answers or votes >= t.helper_votes:
            return t.helper_weight
        return 1.0

    def is_new(self, subject: str, now: float) -> bool:
        """A new identity (first seen within a day, or fewer than two posts): stricter limits."""
        first = self.first_seen.get(subject, now)
        return now - first < self.trust.new_s or len(self.authored(subject)) < 2

    def _is_accepted(self, reply: Post) -> bool:
        topic = self.posts.get(reply.topic)
        return topic is not None and topic.accepted == reply.id

    def seen(self, subject: str, now: float) -> bool:
        """Remember when an identity first posted; True if this is the first time."""
        if subject in self.first_seen:
            return False
        self.first_seen[subject] = now
        return True

    # -- writing ----------------------------------------------------------------------

    def open_topic(
        self,
        post_id: int,
        actor: Actor,
        now: float,
        *,
        type: str,
        title: str,
        body: str,
        lang: str,
        service: str | None,
        name: str,
        pending: bool,
    ) -> Post:
        if type == "announcement" and not actor.staff:
            raise ProtocolError(E.STAFF_ONLY_TYPE, "Only staff may post an announcement.")
        post = Post(
            id=post_id,
            kind="topic",
            topic=post_id,
            lang=lang,
            title=title,
            body=body,
            type=type,
            service=service,
            author=actor.subject,
            author_name=name,
            author_role=actor.role,
            created=now,
            pending=pending and not actor.staff,
            activity=now,
        )
        self._add(post)
        return post

    def reply(
        self,
        post_id: int,
        actor: Actor,
        now: float,
        *,
        topic_id: int,
        body: str,
        parent: int | None,
        official: bool,
        official_service: str | None,
        name: str,
        pending: bool,
    ) -> tuple[Post, Post]:
        """Add a reply; returns (reply, its topic)."""
        topic = self.topic(topic_id, actor)
        self._writable(topic, replies=True)
        if official and not actor.staff:
            raise ProtocolError(E.NOT_OFFICIAL, "Only verified staff may give an official answer.")
        if parent is not None:
            up = self.posts.get(parent)
            if up is None or up.kind != "reply" or up.topic != topic.id or up.parent is not None:
                raise ProtocolError(
                    E.BAD_PARENT, "Reply to the topic or to one of its top-level replies."
                )
            if official:
                raise ProtocolError(E.BAD_PARENT, "An official answer answers the topic itself.")
        post = Post(
            id=post_id,
            kind="reply",
            topic=topic.id,
            parent=parent,
            lang=topic.lang,
            body=body,
            author=actor.subject,
            author_name=name,
            author_role=actor.role,
            created=now,
            official=(
                {"staff_name": name, "service": official_service, "ts": now} if official else None
            ),
            pending=pending and not actor.staff,
        )
        self._add(post)
        self.replies.setdefault(topic.id, []).append(post.id)
        topic.activity = now
        self.restatus(topic)
        return post, topic

    def edit(
        self, actor: Actor, now: float, post_id: int, title: str | None, body: str | None
    ) -> tuple[Post, dict[str, Any]]:
        """Change one's own post; returns (post, the revision it replaces)."""
        post = self.get(post_id, actor)
        if post.author != actor.subject:
            raise ProtocolError(E.NOT_AUTHOR, "Only the author may edit a post.")
        topic = self.posts[post.topic]
        self._writable(topic, replies=False)
        if post.kind != "topic":
            title = None
        new_title = title if title is not None else post.title
        new_body = body if body is not None else post.body
        if new_title == post.title and new_body == post.body:
            raise ProtocolError(E.EMPTY_EDIT, "The edit changes nothing.")
        revision: dict[str, Any] = {"body": post.body, "ts": post.edited or post.created}
        if post.kind == "topic":
            revision["title"] = post.title
        post.title, post.body, post.edited = new_title, new_body, now
        topic.activity = now
        return post, revision

    def vote(
        self, actor: Actor, post_id: int, up: bool, now: float | None = None
    ) -> tuple[Post, bool]:
        """Vote or take the vote back (``now``: when, kept for retention); returns (post,
        whether the vote counts the first time)."""
        post = self.get(post_id, actor)
        if post.author == actor.subject:
            raise ProtocolError(E.OWN_POST, "You cannot vote on your own post.")
        self._writable(self.posts[post.topic], replies=False)
        first = False
        if up and actor.subject not in post.voters:
            post.voters.append(actor.subject)
            if now is not None:
                post.voted_at[actor.subject] = now
            if actor.subject not in post.counted:
                post.counted.append(actor.subject)
                first = True
        elif not up and actor.subject in post.voters:
            post.voters.remove(actor.subject)
        return post, first

    def accept(self, actor: Actor, topic_id: int, reply_id: int | None) -> Post:
        topic = self.topic(topic_id, actor)
        if topic.author != actor.subject:
            raise ProtocolError(E.NOT_AUTHOR, "Only the person who asked may accept an answer.")
        self._writable(topic, replies=False)
        if reply_id is not None:
            reply = self.get(reply_id, actor)
            if reply.kind != "reply" or reply.topic != topic.id:
                raise ProtocolError(E.NO_SUCH_POST, "That reply does not answer this topic.")
        topic.accepted = reply_id
        self.restatus(topic)
        return topic

    def flag(self, actor: Actor, now: float, post_id: int, reason: str) -> tuple[Post, bool]:
        """Flag; returns (post, True if the flags' weight just hid it)."""
        post = self.get(post_id, actor)
        if post.author == actor.subject:
            raise ProtocolError(E.OWN_POST, "You cannot flag your own post.")
        if actor.subject in post.flags:
            raise ProtocolError(E.ALREADY_FLAGGED, "You flagged this post already.")
        post.flags[actor.subject] = f"{reason}:{self.weight(actor, now)}"
        post.flagged_at[actor.subject] = now
        if post.hidden is None and self.flag_weight(post) >= self.trust.hide_at:
            post.hidden = {"reason": "flagged", "by": "flags", "ts": now}
            self.restatus(self.posts[post.topic])
            return post, True
        return post, False

    @staticmethod
    def flag_weight(post: Post) -> float:
        total = 0.0
        for value in post.flags.values():
            _reason, _, weight = value.partition(":")
            try:
                total += float(weight)
            except ValueError:
                total += 1.0
        return total

    def moderate(self, actor: Actor, now: float, post_id: int, action: str, reason: str) -> Post:
        if not actor.staff:
            raise ProtocolError(E.NOT_OFFICIAL, "Only staff may moderate.")
        post = self.get(post_id, actor)
        if action == "hide":
            post.hidden = {"reason": reason, "by": actor.subject, "ts": now}
        elif action == "restore":
            post.hidden = None
            post.flags = {}
            post.flagged_at = {}
        else:  # approve
            post.pending = False
        self.restatus(self.posts[post.topic])
        return post

    def set_topic(
        self,
        actor: Actor,
        now: float,
        topic_id: int,
        status: str | None,
        needs_case: bool | None,
        service: str | None,
    ) -> Post:
        if not actor.staff:
            raise ProtocolError(E.NOT_OFFICIAL, "Only staff may change a topic's status.")
        topic = self.topic(topic_id, actor)
        if topic.merged_into is not None:
            raise ProtocolError(E.READ_ONLY, "The topic was merged; change the canonical one.")
        if status is not None:
            topic.status = status
            if status == "open":
                self.restatus(topic, reopen=True)
        if needs_case is not None:
            topic.needs_case = needs_case
        if service is not None:
            topic.service = service
        topic.activity = now
        return topic

    def merge(
        self, actor: Actor, now: float, topic_id: int, into: int
    ) -> tuple[Post, Post, list[int]]:
        """Merge a duplicate into its canonical topic; returns (duplicate, canonical, moved)."""
        if not actor.staff:
            raise ProtocolError(E.NOT_OFFICIAL, "Only staff may merge topics.")
        dup = self.topic(topic_id, actor)
        target = self.posts.get(into)
        if (
            topic_id == into
            or target is None
            or target.kind != "topic"
            or target.merged_into is not None
            or dup.merged_into is not None
        ):
            raise ProtocolError(E.BAD_MERGE, "Merge a topic into another, unmerged topic.")
        moved = self.replies.pop(dup.id, [])
        for rid in moved:
            self.posts[rid].topic = target.id
        self.replies.setdefault(target.id, []).extend(moved)
        self.replies[target.id].sort()
        dup.merged_into = target.id
        dup.status = "closed"
        dup.accepted = None
        target.activity = now
        self.restatus(target)
        return dup, target, moved

    def remove_topic(self, topic_id: int) -> list[int]:
        """Delete a topic and its replies (retention purge); returns the ids removed."""
        gone = [topic_id, *self.replies.pop(topic_id, [])]
        for pid in gone:
            self.posts.pop(pid, None)
        return gone

    def erase(self, subject: str) -> tuple[list[int], int]:
        """Erase an identity: their posts lose their text and their name, their votes and
        flags lose the link to them. Returns (changed post ids, votes unlinked)."""
        changed: set[int] = set()
        votes = 0
        for post in self.posts.values():
            if post.author == subject:
                post.author = ""
                post.author_name = ERASED_NAME
                post.title = ""
                post.body = ""
                post.erased = True
                post.edited = None
                changed.add(post.id)
            if subject in post.voters or subject in post.counted:
                token = _erased_token()
                if subject in post.voters:
                    post.voters[post.voters.index(subject)] = token
                    votes += 1
                if subject in post.counted:
                    post.counted[post.counted.index(subject)] = token
                post.voted_at.pop(subject, None)
                changed.add(post.id)
            if subject in post.flags:
                post.flags[_erased_token()] = post.flags.pop(subject)
                post.flagged_at.pop(subject, None)
                changed.add(post.id)
        self.first_seen.pop(subject, None)
        self.by_author.pop(subject, None)
        return sorted(changed), votes

    # -- retention --------------------------------------------------------------------

    def expire_votes(self, before: float) -> tuple[list[int], int]:
        """Unlink votes cast before ``before`` from their voters, as `erase` does (the count
        stays); returns (changed post ids, votes unlinked)."""
        changed: list[int] = []
        votes = 0
        for post in self.posts.values():
            old = {
                s
                for s in (*post.voters, *post.counted)
                if not s.startswith(ERASED_TOKEN) and post.voted_at.get(s, post.created) < before
            }
            if not old:
                continue
            for s in old:
                token = _erased_token()
                post.voters = [token if v == s else v for v in post.voters]
                post.counted = [token if v == s else v for v in post.counted]
                post.voted_at.pop(s, None)
            votes += len(old)
            changed.append(post.id)
        return changed, votes

    def expire_flags(self, before: float) -> tuple[list[int], int]:
        """Unlink flags raised before ``before`` from who raised them (reason and weight
        stay, so a post the flags hid stays hidden); returns (changed post ids, flags)."""
        changed: list[int] = []
        flags = 0
        for post in self.posts.values():
            old = [
                s
                for s in post.flags
                if not s.startswith(ERASED_TOKEN) and post.flagged_at.get(s, post.created) < before
            ]
            for s in old:
                post.flags[_erased_token()] = post.flags.pop(s)
                post.flagged_at.pop(s, None)
            if old:
                flags += len(old)
                changed.append(post.id)
        return changed, flags

    def forget_unused(self, before: float) -> list[str]:
        """Forget identities first seen before ``before`` that no post, vote or flag names any
        more (after a purge), and drop removed posts from the author index; returns the
        identities forgotten."""
        for subject in list(self.by_author):
            ids = [i for i in self.by_author[subject] if i in self.posts]
            if ids:
                self.by_author[subject] = ids
            else:
                del self.by_author[subject]
        named = set(self.by_author)
        for post in self.posts.values():
            named.update(post.voters, post.counted, post.flags)
        gone = [s for s, t in self.first_seen.items() if t < before and s not in named]
        for subject in gone:
            del self.first_seen[subject]
        return gone

    # -- status -----------------------------------------------------------------------

    def restatus(self, topic: Post, reopen: bool = False) -> None:
        """Derive an open topic's status from its answers (closed and archived stay)."""
        if topic.status in ("closed", "archived") and not reopen:
            return
        replies = [self.posts[r] for r in self.replies.get(topic.id, []) if r in self.posts]
        public = [r for r in replies if r.hidden is None and not r.pending]
        if any(r.official is not None for r in public):
            topic.status = "official"
        elif topic.accepted is not None and any(r.id == topic.accepted for r in public):
            topic.status = "answered"
        else:
            topic.status = "open"

    def _writable(self, topic: Post, replies: bool) -> None:
        if topic.status == "archived":
            raise ProtocolError(E.READ_ONLY, "The topic is archived: it can be read, not changed.")
        if topic.merged_into is not None:
            raise ProtocolError(E.READ_ONLY, "The topic was merged into another; go there.")
        if replies and topic.status == "closed":
            raise ProtocolError(E.READ_ONLY, "The topic is closed to new replies.")

    def official_reply(self, topic: Post) -> Post | None:
        for rid in self.replies.get(topic.id, []):
            r = self.posts.get(rid)
            if r is not None and r.official is not None and r.hidden is None:
                return r
        return None

    # -- views ------------------------------------------------------------------------

    def view(
        self,
        post: Post,
        viewer: Actor | None,
        now: float,
        due: float | None = None,
        full: bool = False,
    ) -> dict[str, Any]:
        """A post as ``viewer`` sees it (the POST map of the protocol)."""
        out: dict[str, Any] = {
            "id": post.id,
            "kind": post.kind,
            "topic": post.topic,
            "lang": post.lang,
            "body": post.body if full or post.kind == "reply" else post.body[:LIST_BODY_CHARS],
            "author_name": post.author_name,
            "author_role": post.author_role,
            "mine": viewer is not None and bool(post.author) and viewer.subject == post.author,
            "created": post.created,
            "votes": len(post.voters),
            "voted": viewer is not None and viewer.subject in post.voters,
            "pending": post.pending,
        }
        if post.erased:
            out["erased"] = True
        if post.edited is not None:
            out["edited"] = post.edited
        if (
            post.hidden is not None
            and viewer is not None
            and (viewer.staff or viewer.subject == post.author)
        ):
            out["hidden"] = {"reason": post.hidden.get("reason", "")}
        if viewer is not None and viewer.staff and post.flags:
            out["flags"] = len(post.flags)
        if post.kind == "reply":
            topic = self.posts.get(post.topic)
            out["accepted"] = topic is not None and topic.accepted == post.id
            if post.parent is not None:
                out["parent"] = post.parent
            if post.official is not None:
                out["official"] = {k: v for k, v in post.official.items() if v is not None}
            return out
        out.update(
            type=post.type,
            title=post.title,
            status=post.status,
            needs_case=post.needs_case,
            replies=sum(
                1
                for r in self.replies.get(post.id, [])
                if r in self.posts and self.visible(self.posts[r], viewer)
            ),
        )
        if post.service:
            out["service"] = post.service
        if post.merged_into is not None:
            out["merged_into"] = post.merged_into
        if due is not None:
            out["answer_due"] = due
            out["overdue"] = now > due
        else:
            out["overdue"] = False
        best = self.best_answer(post)
        if best is not None:
            answer: dict[str, Any] = {
                "post": best.id,
                "body": best.body[:ANSWER_CHARS],
                "official": best.official is not None,
                "accepted": best.id == post.accepted,
                "author_name": best.author_name,
            }
            if best.official is not None:
                answer["staff_name"] = best.official.get("staff_name", "")
                if best.official.get("service"):
                    answer["service"] = best.official["service"]
            out["answer"] = answer
        return out

    def waiting(self, topic: Post) -> bool:
        """An open question without an official answer (it has a due time)."""
        return (
            topic.kind == "topic"
            and topic.type in QUESTION_TYPES
            and topic.status in ("open", "answered")
            and topic.merged_into is None
            and topic.hidden is None
            and not topic.pending
            and not topic.erased
        )

    def topics(self, viewer: Actor | None) -> list[Post]:
        """Visible, unmerged topics."""
        return [
            p
            for p in self.posts.values()
            if p.kind == "topic" and p.merged_into is None and self.visible(p, viewer)
        ]


ERASED_TOKEN = "erased:"
"""How a vote or flag no longer linked to its identity is keyed (``erased:<random>``)."""


def _erased_token() -> str:
    return ERASED_TOKEN + secrets.token_hex(8)


def score_votes(post: Post) -> float:
    """A gentle popularity term for lists: log(1 + votes)."""
    return math.log1p(len(post.voters))
