"""The Q&A wall: handlers, the durable record, the search index, live updates, jobs.

The record is the store: every post is a JSON value in the hash ``posts``
(written before the sender hears back), earlier versions in ``revisions``,
first sightings of identities in ``identities``, notices for authors in
``notices``, moderation actions in the ``audit`` stream, and what happened
(without text or citizens' identities) in the shared ``activity`` stream that
the scorecard and the reports read. The search index (SQLite FTS5, see
`server.features.qa.search`) is derived: every write bumps the store's ``rev``
and the index keeps the ``<epoch>:<rev>`` it has applied, so an index that is
missing or behind (a crash between the two writes, a restored store) is rebuilt
from the record on start.

Nothing a detector flags as personal data is stored, indexed or logged: the
post is answered with ``qa_held`` and forgotten. Post texts are never logged.

Retention has two layers. The wall's own (``retention_days`` by topic type,
`apply_retention`) archives or purges topics of a type some time after their last
activity. The service point's (`expire_data`, for the ``personal_data`` kinds with a limit
in ``Config.retention_days``; none by default) works on records made before the limit:

- ``qa_posts``: topics last active (a reply, an edit, a change) before it are purged with
  their replies and revisions, as the wall's purge does (``audit``: ``purge`` by
  ``retention``); notices about them go too, and so does the first sighting of an identity
  first seen before it that no post, vote or flag names any more;
- ``qa_revisions``: earlier versions dated before it are deleted (the post stays);
- ``qa_votes`` and ``qa_flags``: votes and flags cast before it lose the link to who cast
  them, as on erasure (counts, reasons and weights stay); one stored before their time was
  kept counts as made when its post was;
- ``qa_notices``: notices dated before it are deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import csv
import io
import json
import math
import secrets
import statistics
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from protocol.codec import Message
from protocol.errors import ProtocolError
from protocol.messages import qa as wire
from server.audit import token_actor
from server.features.qa.model import Actor, Board, Post, Trust
from server.features.qa.search import QueryError, SearchDoc, SearchIndex
from server.features.qa.settings import QaSettings
from server.plug import (
    Erased,
    Feature,
    FeatureContext,
    Handler,
    HttpError,
    HttpReply,
    HttpRequest,
    HttpRoute,
    Person,
    Sender,
)
from server.privacy import find, redact
from server.quota import Quota
from server.tasks import Repeating

E = wire.QaError

POSTS = "posts"
VERSIONS = "versions"
"""Hash: each post's version, bumped by every write of it (`Keyspace.hset_versioned`): a
process of a cluster that changed a post it had read at an older version writes
nothing, reads the post again and makes its change anew (`QaWall._until_written`)."""
STALE_RETRIES = 8
"""Attempts at one change whose posts other processes keep changing meanwhile."""
REVISIONS = "revisions"
IDENTITIES = "identities"
NOTICES = "notices"
AUDIT = "audit"
ACTIVITY = "activity"
"""Shared stream: question, answer, official_answer, accepted, helpful (docs/METRICS.md)."""
CHANGES = "changes"
"""Stream of which posts each write changed (ids only, no personal data): how the other
processes of a cluster on one Redis follow (`QaWall.follow`)."""
CHANGES_KEPT = 1000
"""Entries of ``changes`` kept once it holds twice as many (a process reads it twice a
second, so only a very late one could miss some; a restart reads everything anyway)."""
FOLLOW_BATCH = 500
MAX_NOTICES = 50
PRIVATE_FIELDS = ("author", "voters", "counted", "flags", "voted_at", "flagged_at")
"""Fields of a post that name identities: never exported, to the author or the agency."""
QUOTA_ACTIONS = ("topic", "reply", "vote")


_TAKEN: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("qa_taken", default=None)
"""Quota actions one message has taken: an attempt made anew takes none again."""

_T = TypeVar("_T")


class StaleWrite(Exception):
    """A write of posts that another process changed since this one read them."""

    def __init__(self, posts: Iterable[int]) -> None:
        self.posts = sorted(set(posts))
        super().__init__(f"posts changed elsewhere: {self.posts}")


def _ids(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip().isdigit()]


class QaWall(Feature):
    name = "qa"
    protocol = wire.PROTOCOL
    Settings = QaSettings
    personal_data = ("qa_posts", "qa_revisions", "qa_votes", "qa_flags", "qa_notices")
    shares = (ACTIVITY,)

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self.settings: QaSettings = ctx.settings
        self.board = Board(Trust(hide_at=self.settings.flag_hide_weight))
        self.index: SearchIndex | None = None
        self.quota = Quota(ctx.store)
        self.epoch = ""
        self.rev = 0
        self.revisions: dict[int, list[dict[str, Any]]] = {}
        self.watchers: dict[int, weakref.WeakSet[Any]] = {}
        self.watching: weakref.WeakKeyDictionary[Any, list[int]] = weakref.WeakKeyDictionary()
        self.present: dict[str, weakref.WeakSet[Any]] = {}
        """Senders by subject (the 2D page has no avatar), for live notices."""
        self.in_world: dict[str, int] = {}
        """Subject -> entity of people in the world."""
        self._wall_due = False
        self.instance = secrets.token_hex(6)
        """This process's name in the ``changes`` stream (random per start)."""
        self._changes_cursor = "0-0"
        self._following: Repeating | None = None
        self._writes = 0
        """Writes of this process (`_save`); a follow round that saw one begin meanwhile
        leaves the posts alone that this process wrote, which are newer than what it read."""
        self._written: dict[int, int] = {}
        self._versions: dict[int, int] = {}
        self._follow_lock = asyncio.Lock()
        """Each post's version as this process last read or wrote it."""
        self._retention: Repeating | None = None
        self._recounting: Repeating | None = None
        self._overdue: dict[str, int] | None = None
        m = ctx.metrics
        self.m_posts = m.counter("posts", "Posts stored, by kind.", ["kind"])
        self.m_stale = m.counter(
            "stale_writes",
            "Changes made anew because another process changed their posts first.",
        )
        self.m_held = m.counter(
            "held", "Posts held back for personal data, by what was found.", ["kind"]
        )
        self.m_official = m.histogram(
            "official_answer_seconds",
            "Time from a question to its first official answer, by service.",
            buckets=(600, 3600, 4 * 3600, 86400, 2 * 86400, 7 * 86400, 30 * 86400),
            labels=["service"],
        )
        self.m_waiting = m.gauge(
            "waiting", "Questions waiting for an official answer.", ["state"], mode="max"
        )

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "qa_search": self.on_search,
            "qa_get": self.on_get,
            "qa_post": self._retrying(self.on_post),
            "qa_reply": self._retrying(self.on_reply),
            "qa_edit": self._retrying(self.on_edit),
            "qa_vote": self._retrying(self.on_vote),
            "qa_accept": self._retrying(self.on_accept),
            "qa_flag": self._retrying(self.on_flag),
            "qa_moderate": self._retrying(self.on_moderate),
            "qa_set": self._retrying(self.on_set),
            "qa_merge": self._retrying(self.on_merge),
            "qa_revisions": self.on_revisions,
            "qa_queue": self.on_queue,
            "qa_mine": self.on_mine,
            "qa_export_mine": self.on_export_mine,
            "qa_erase_me": self._retrying(self.on_erase_me),
        }

    def http_routes(self) -> Mapping[str, HttpRoute]:
        return {
            "topic": HttpRoute(self.http_topic),
            "report": HttpRoute(self.http_report),
            "export.jsonl": HttpRoute(self.http_export_jsonl),
            "export.csv": HttpRoute(self.http_export_csv),
        }

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        store = self.ctx.store
        # Changes logged before the posts are read are in what is read; later ones follow.
        last = await store.tail(CHANGES, 1)
        self._changes_cursor = last[0][0] if last else "0-0"
        # Versions before posts: a post read newer than its version only makes the next
        # write of it start over, never overwrite a newer one.
        self._versions = {int(k): int(v) for k, v in (await store.hgetall(VERSIONS)).items()}
        posts = [Post.from_json(json.loads(v)) for v in (await store.hgetall(POSTS)).values()]
        seen = {k: float(v) for k, v in (await store.hgetall(IDENTITIES)).items()}
        self.board.load(posts, seen)
        self.revisions = {
            int(k): json.loads(v) for k, v in (await store.hgetall(REVISIONS)).items()
        }
        raw_epoch = await store.get("epoch")
        if raw_epoch is None:
            raw_epoch = secrets.token_hex(8).encode()
            await store.set("epoch", raw_epoch)
        self.epoch = raw_epoch.decode()
        raw_rev = await store.get("rev")
        self.rev = int(raw_rev) if raw_rev is not None else 0
        path = None
        if self.ctx.data_dir is not None:
            path = Path(self.ctx.data_dir) / "qa" / "search.sqlite"
            path.parent.mkdir(parents=True, exist_ok=True)
        self.index = SearchIndex(path)
        if self.index.generation != self._generation():
            self.rebuild_index()
        self._retention = self.ctx.tasks.every(
            self.settings.retention_every_s, self.apply_retention, "qa-retention"
        )
        self._gauge_waiting()
        # Questions become overdue as time passes, not only when something is written.
        self._recounting = self.ctx.tasks.every(
            self.settings.overdue_every_s, self._recount, "qa-overdue"
        )
        self._following = self.ctx.tasks.every(
            self.settings.follow_every_s, self._follow_round, "qa-follow"
        )
        self.ctx.log.info("Q&A: %d posts, index %d topics", len(posts), self.index.count())

    async def stop(self) -> None:
        for job in (self._retention, self._recounting, self._following):
            if job is not None:
                job.stop()
        if self.index is not None:
            self.index.close()
            self.index = None

    def rebuild_index(self) -> None:
        index = self._index()
        index.clear()
        index.upsert_many(d for t in self.board.topics(None) if (d := self._doc(t)) is not None)
        index.set_generation(self._generation())

    async def entered(self, person: Person, resumed: bool) -> None:
        self.in_world[person.subject] = person.id
        self.ctx.notify.to(person.id, self._wall_message())

    async def left(self, person: Person, for_good: bool) -> None:
        if self.in_world.get(person.subject) == person.id:
            del self.in_world[person.subject]

    # -- helpers ----------------------------------------------------------------------

    def _index(self) -> SearchIndex:
        if self.index is None:
            raise RuntimeError("the Q&A feature is not started")
        return self.index

    def _generation(self) -> str:
        return f"{self.epoch}:{self.rev}"

    def _actor(self, sender: Sender) -> Actor:
        caller = sender.caller
        self.present.setdefault(caller.subject, weakref.WeakSet()).add(sender)
        return Actor.of(caller)

    def _now(self) -> float:
        return self.ctx.clock.time()

    def _due(self, topic: Post) -> float | None:
        if topic.kind != "topic" or not self.board.waiting(topic):
            return None
        return topic.created + self.settings.target_s(topic.service)

    def _view(self, post: Post, viewer: Actor | None, full: bool = False) -> dict[str, Any]:
        topic = self.board.posts.get(post.topic, post)
        return self.board.view(
            post, viewer, self._now(), self._due(topic) if post.kind == "topic" else None, full
        )

    def _display_name(self, actor: Actor, msg: Message) -> str:
        if actor.staff or actor.role != "citizen":
            return actor.name or actor.role
        given = msg.get("name")
        name = redact(given).strip() if isinstance(given, str) else actor.name
        return name[:32]

    def _check_text(self, sender: Sender, msg: Message, fields: Iterable[str]) -> bool:
        """True if every text field is free of personal data; else answer ``qa_held``."""
        findings: list[dict[str, Any]] = []
        for name in fields:
            text = msg.get(name)
            if not isinstance(text, str):
                continue
            for f in find(text):
                findings.append(
                    {
                        "field": name,
                        "kind": f.kind,
                        "start": f.start,
                        "end": f.end,
                        "reason": f.reason,
                    }
                )
                self.m_held.labels(kind=f.kind).inc()
        if not findings:
            return True
        held: dict[str, Any] = {"t": "qa_held", "findings": findings[:100]}
        if "ref" in msg:
            held["ref"] = msg["ref"]
        sender.reply(held)
        return False

    async def _take(self, actor: Actor, action: str) -> None:
        if actor.staff:
            return
        taken = _TAKEN.get()
        if taken is not None and action in taken:
            return  # this message's first attempt took it
        now = self._now()
        new = self.board.is_new(actor.subject, now)
        s = self.settings
        rule = {
            "topic": s.new_topic_rate if new else s.topic_rate,
            "reply": s.new_reply_rate if new else s.reply_rate,
            "vote": s.vote_rate,
        }[action]
        wait = await self.quota.take(rule, action, actor.subject)
        if wait is None:
            if taken is not None:
                taken.add(action)
            return
        code = E.VOTE_LIMIT if action == "vote" else E.POST_LIMIT
        who = "A new identity" if new and action != "vote" else "An identity"
        raise ProtocolError(
            code, f"{who} may do this {rule.replace('/', ' per ')}; try again in {wait:.0f} s."
        )

    def _check_service(self, service: str | None) -> None:
        if service is not None and self.ctx.world.service(service) is None:
            raise ProtocolError(E.UNKNOWN_SERVICE, f"There is no service {service!r}.")

    def _doc(self, topic: Post) -> SearchDoc | None:
        if topic.kind != "topic" or topic.merged_into is not None:
            return None
        if topic.hidden is not None or topic.pending:
            return None
        replies = self.board.replies_of(topic, None)
        answers = [r.body for r in replies if r.official is not None or r.id == topic.accepted]
        others = [r.body for r in replies if r.official is None and r.id != topic.accepted]
        if topic.erased and not answers and not others:
            return None
        return SearchDoc(
            topic=topic.id,
            lang=topic.lang,
            type=topic.type,
            service=topic.service,
            status=topic.status,
            title=topic.title,
            body=topic.body,
            answers="\n".join(answers),
            replies="\n".join(others),
            official=any(r.official is not None for r in replies),
            accepted=topic.accepted is not None,
            votes=len(topic.voters),
            created=topic.created,
        )

    async def _save(
        self, changed: Iterable[int], removed: Iterable[int] = (), topics: Iterable[int] = ()
    ) -> None:
        """Write changed posts to the store, then bring the index up to date."""
        store = self.ctx.store
        changed = sorted(set(changed))
        self._writes += 1
        for pid in (*changed, *[int(p) for p in removed]):
            self._written[pid] = self._writes
        writes: dict[str, bytes | None] = {
            str(pid): json.dumps(self.board.posts[pid].to_json(), ensure_ascii=False).encode()
            for pid in changed
            if pid in self.board.posts
        }
        removed = [int(p) for p in removed]
        writes.update({str(pid): None for pid in removed})
        expected = {f: self._versions.get(int(f), 0) for f in writes}
        versions = await store.hset_versioned(POSTS, VERSIONS, writes, expected)
        if versions is None:
            raise StaleWrite([*changed, *removed])
        self._versions.update({int(f): v for f, v in versions.items()})
        self.rev = await store.incr("rev")
        topics = list(topics)
        await store.append(
            CHANGES,
            {
                "by": self.instance,
                "changed": ",".join(map(str, changed)),
                "removed": ",".join(map(str, removed)),
                "topics": ",".join(map(str, topics)),
            },
        )
        self._reindex(changed, removed, topics)

    def _reindex(
        self, changed: Iterable[int], removed: Iterable[int], topics: Iterable[int]
    ) -> None:
        index = self._index()
        affected = set(topics)
        for pid in changed:
            post = self.board.posts.get(pid)
            if post is not None:
                affected.add(post.topic)
        for tid in sorted(affected):
            topic = self.board.posts.get(tid)
            doc = self._doc(topic) if topic is not None else None
            if doc is None:
                index.remove(tid)
            else:
                index.upsert(doc)
        for pid in removed:
            index.remove(int(pid))
        index.set_generation(self._generation())
        self._wall_changed()

    async def _follow_round(self) -> None:
        await self.follow()

    async def follow(self) -> int:
        """Read what other processes of a cluster changed since the last look into this
        board, index and watchers (each process writes through `_save`, which logs the
        post ids in ``changes``). Returns how many of their changes were applied. One
        look at a time (a merge looks too, beside the periodic look)."""
        async with self._follow_lock:
            return await self._follow()

    async def _follow(self) -> int:
        store = self.ctx.store
        entries = await store.read(CHANGES, after=self._changes_cursor, count=FOLLOW_BATCH)
        if not entries:
            return 0
        self._changes_cursor = entries[-1][0]
        changed: set[int] = set()
        removed: set[int] = set()
        topics: set[int] = set()
        applied = 0
        for _entry_id, fields in entries:
            if fields.get("by") == self.instance:
                continue
            applied += 1
            changed.update(_ids(fields.get("changed", "")))
            removed.update(_ids(fields.get("removed", "")))
            topics.update(_ids(fields.get("topics", "")))
        if not applied:
            return 0
        changed -= removed
        # Read everything first, then apply it in one go (no await in between), so the
        # board, the index and the watchers never see a half-applied round.
        began = self._writes
        fetched: list[tuple[Post, bytes | None]] = []
        read_at: dict[int, int] = {}
        for pid in sorted(changed | removed):
            raw_version = await store.hget(VERSIONS, str(pid))  # before the post (see start)
            read_at[pid] = int(raw_version) if raw_version is not None else 0
            if pid in removed:
                continue
            raw = await store.hget(POSTS, str(pid))
            if raw is None:
                removed.add(pid)
                continue
            fetched.append((Post.from_json(json.loads(raw)), await store.hget(REVISIONS, str(pid))))
        seen = await store.hgetall(IDENTITIES)
        raw_rev = await store.get("rev")
        # What this process wrote since the round began is newer than what it read.
        # So is a version this process has already read or written (a post made anew).
        fetched = [
            (p, h)
            for p, h in fetched
            if self._written.get(p.id, 0) <= began and read_at[p.id] >= self._versions.get(p.id, 0)
        ]
        removed = {
            pid
            for pid in removed
            if self._written.get(pid, 0) <= began
            and read_at.get(pid, 0) >= self._versions.get(pid, 0)
        }
        changed = {p.id for p, _h in fetched}
        if len(self._written) > 10_000:
            self._written = {k: v for k, v in self._written.items() if v > began}
        for pid in (*changed, *removed):
            self._versions[pid] = read_at.get(pid, 0)
        for post, history in fetched:
            self.board.put(post)
            if history is None:
                self.revisions.pop(post.id, None)
            else:
                self.revisions[post.id] = json.loads(history)
        for pid in removed:
            self.board.drop(pid)
            self.revisions.pop(pid, None)
        self.board.first_seen = {k: float(v) for k, v in seen.items()}
        self.rev = int(raw_rev) if raw_rev is not None else self.rev
        self._reindex(changed, removed, topics)
        for post, _history in fetched:
            topic = self.board.posts.get(post.topic)
            if topic is not None:
                self._updated(topic, post if post is not topic else None)
        self._gauge_waiting()
        if await store.length(CHANGES) > CHANGES_KEPT * 2:
            old = await store.read(CHANGES, count=CHANGES_KEPT)
            await store.trim(CHANGES, [entry_id for entry_id, _ in old])
        return applied

    async def _until_written(self, attempt: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``attempt`` (a change to the board ending in `_save`) until its write lands.
        When another process of a cluster changed one of its posts since this one read
        it (two votes at once, an erasure during a reply), the write is refused whole,
        the posts are read again and the change is made anew on them, so neither
        change is lost (an erased name never comes back with a late vote)."""
        for _ in range(STALE_RETRIES):
            try:
                return await attempt()
            except StaleWrite as stale:
                self.m_stale.inc()
                await self._refresh(stale.posts)
        raise ProtocolError(
            E.CHANGED_ELSEWHERE,
            "These posts were changed elsewhere many times while this was written; "
            "nothing was changed. Try again.",
        )

    def _retrying(self, handler: Handler) -> Handler:
        """``handler`` made anew on fresh posts when its write was stale (`_until_written`);
        the quota it took on its first attempt is not taken again."""

        async def run(sender: Sender, msg: Message) -> None:
            token = _TAKEN.set(set())
            try:
                await self._until_written(lambda: handler(sender, msg))
            finally:
                _TAKEN.reset(token)

        return run

    async def _refresh(self, pids: Iterable[int]) -> None:
        """Read ``pids`` again as they are stored (undoing what a refused write changed on
        the board: a post it made is dropped)."""
        store = self.ctx.store
        changed: list[int] = []
        removed: list[int] = []
        for pid in pids:
            raw_version = await store.hget(VERSIONS, str(pid))  # before the post (see start)
            raw = await store.hget(POSTS, str(pid))
            history = await store.hget(REVISIONS, str(pid))
            self._versions[pid] = int(raw_version) if raw_version is not None else 0
            if raw is None:
                self.board.drop(pid)
                self.revisions.pop(pid, None)
                removed.append(pid)
                continue
            self.board.put(Post.from_json(json.loads(raw)))
            if history is None:
                self.revisions.pop(pid, None)
            else:
                self.revisions[pid] = json.loads(history)
            changed.append(pid)
        self._reindex(changed, removed, ())

    async def _remember(self, actor: Actor) -> None:
        if self.board.seen(actor.subject, self._now()):
            await self.ctx.store.hset(
                IDENTITIES, {actor.subject: str(self.board.first_seen[actor.subject]).encode()}
            )

    async def _activity(self, fields: Mapping[str, Any]) -> None:
        await self.ctx.store.append(
            ACTIVITY,
            {k: str(v) for k, v in {**fields, "ts": self._now()}.items() if v is not None},
        )

    async def _audit(self, action: str, post: Post, by: str, reason: str = "") -> None:
        await self.ctx.store.append(
            AUDIT,
            {
                "action": action,
                "post": str(post.id),
                "topic": str(post.topic),
                "by": by,
                "reason": reason,
                "ts": str(self._now()),
            },
        )

    async def _trail(
        self, who: Actor, action: str, target: str = "", detail: dict[str, str] | None = None
    ) -> None:
        """The server's audit trail: subjects and ids, never a post's text or a reason."""
        if self.ctx.audit is not None:
            await self.ctx.audit.record(who.subject, who.role, "qa." + action, target, detail)

    def _reply(self, sender: Sender, msg: Message, out: dict[str, Any]) -> None:
        if "ref" in msg:
            out["ref"] = msg["ref"]
        sender.reply(out)

    def _watch(self, sender: Sender, topic_id: int) -> None:
        watched = self.watching.setdefault(sender, [])
        if topic_id in watched:
            return
        watched.append(topic_id)
        self.watchers.setdefault(topic_id, weakref.WeakSet()).add(sender)
        while len(watched) > self.settings.watch_max:
            old = watched.pop(0)
            ws = self.watchers.get(old)
            if ws is not None:
                ws.discard(sender)

    def _audience(self, subject: str) -> list[Sender]:
        return [s for s in self.present.get(subject, ()) if s.open]

    def _update(self, topic: Post, viewer: Actor, post: Post | None = None) -> dict[str, Any]:
        """``qa_update`` as ``viewer`` sees it: the topic, and the changed post if visible."""
        msg: dict[str, Any] = {"t": "qa_update", "topic": self._view(topic, viewer)}
        if post is not None and post is not topic and self.board.visible(post, viewer):
            msg["post"] = self._view(post, viewer, full=True)
        return msg

    def _updated(self, topic: Post, post: Post | None = None) -> None:
        """Tell whoever watches ``topic`` (and its author) what changed, each as they see it."""
        senders = {s for s in self.watchers.get(topic.id, ()) if s.open}
        senders.update(self._audience(topic.author))
        reached: set[str] = set()
        for s in senders:
            viewer = Actor.of(s.caller)
            if self.board.visible(topic, viewer):
                s.reply(self._update(topic, viewer, post))
                reached.add(viewer.subject)
        entity = self.in_world.get(topic.author)
        person = self.ctx.people.get(entity) if entity is not None else None
        if entity is not None and person is not None and topic.author not in reached:
            self.ctx.notify.to(entity, self._update(topic, Actor.of(person), post))

    async def _notice(
        self, subject: str, kind: str, topic: Post, post: Post, reason: str = ""
    ) -> None:
        """Tell an author what happened to their post, now if they are here, and keep it."""
        if not subject:
            return
        notice: dict[str, Any] = {
            "t": "qa_notice",
            "kind": kind,
            "topic": topic.id,
            "post": post.id,
            "title": topic.title[:160],
            "ts": self._now(),
        }
        if reason:
            notice["reason"] = reason[:200]
        raw = await self.ctx.store.hget(NOTICES, subject)
        kept: list[dict[str, Any]] = json.loads(raw) if raw else []
        kept = [*kept, {k: v for k, v in notice.items() if k != "t"}][-MAX_NOTICES:]
        await self.ctx.store.hset(NOTICES, {subject: json.dumps(kept).encode()})
        for s in self._audience(subject):
            s.reply(notice)
        entity = self.in_world.get(subject)
        if entity is not None:
            self.ctx.notify.to(entity, notice)

    def _wall_message(self) -> dict[str, Any]:
        topics = [t for t in self.board.topics(None) if t.type != "announcement" and not t.erased]
        newest = sorted(topics, key=lambda t: -t.created)[:5]
        top = sorted(topics, key=lambda t: (-len(t.voters), -t.created))[:5]
        return {
            "t": "qa_wall",
            "newest": [self._view(t, None) for t in newest],
            "top": [self._view(t, None) for t in top],
        }

    def _wall_changed(self) -> None:
        if self._wall_due:
            return
        self._wall_due = True
        self.ctx.tasks.later(self.settings.wall_every_s, self._push_wall)

    def _push_wall(self) -> None:
        self._wall_due = False
        if not self.in_world:
            return
        self.ctx.notify.to_many(list(self.in_world.values()), self._wall_message())

    def _gauge_waiting(self) -> None:
        """Count the questions waiting for an official answer; tell the bus (``qa.overdue``:
        overdue ones by service, for the insight alerts) and the gauges. A pass over every
        topic: it runs on start and every ``overdue_every_s``, never per write."""
        now = self._now()
        waiting = [t for t in self.board.topics(None) if self.board.waiting(t)]
        overdue = {s["id"]: 0 for s in self.ctx.world.services}
        late = 0
        for t in waiting:
            due = self._due(t)
            if due is not None and now > due:
                late += 1
                if t.service in overdue:
                    overdue[t.service] += 1
        self.m_waiting.labels(state="overdue").set(late)
        self.m_waiting.labels(state="on_time").set(len(waiting) - late)
        if overdue != self._overdue:
            self._overdue = overdue
            self.ctx.bus.publish("qa.overdue", {"services": dict(overdue)})

    async def _recount(self) -> None:
        self._gauge_waiting()

    # -- reading ----------------------------------------------------------------------

    async def on_search(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        q = str(msg["q"]).strip()
        limit = int(msg.get("limit", 10))
        filters = {k: msg.get(k) for k in ("type", "service", "status")}
        only_lang = msg.get("only_lang")
        if q:
            try:
                hits, total = self._index().search(
                    str(msg["q"]),  # unstripped: a trailing space ends the word being typed
                    query_lang=str(msg.get("lang", "en")),
                    prefix=True,
                    lang=only_lang,
                    type=filters["type"],
                    service=filters["service"],
                    status=filters["status"],
                    limit=limit,
                )
            except QueryError as exc:
                raise ProtocolError(E.BAD_QUERY, str(exc) or "Type letters or digits.") from None
            found = [self.board.posts.get(h.topic) for h in hits]
            topics = [t for t in found if t is not None and self.board.visible(t, actor)]
        else:
            topics = [
                t
                for t in self.board.topics(actor)
                if all(v is None or getattr(t, k) == v for k, v in filters.items())
                and (only_lang is None or t.lang == only_lang)
            ]
            total = len(topics)
            topics = self._sorted(topics, str(msg.get("sort", "newest")))[:limit]
        self._reply(
            sender,
            msg,
            {
                "t": "qa_results",
                "q": str(msg["q"]),
                "hits": [self._view(t, actor) for t in topics],
                "total": total,
            },
        )

    def _sorted(self, topics: list[Post], sort: str) -> list[Post]:
        if sort == "votes":
            return sorted(topics, key=lambda t: (-len(t.voters), -t.created))
        if sort == "overdue":
            far = float("inf")
            return sorted(topics, key=lambda t: (self._due(t) or far, -t.created))
        return sorted(topics, key=lambda t: -t.created)

    async def on_get(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        topic, redirected = self.board.canonical(int(msg["topic"]), actor)
        sender.reply(self._topic_message(topic, actor, redirected))
        self._watch(sender, topic.id)

    def _topic_message(
        self, topic: Post, viewer: Actor | None, redirected: int | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "t": "qa_topic",
            "topic": self._view(topic, viewer, full=True),
            "replies": [
                self._view(r, viewer, full=True) for r in self.board.replies_of(topic, viewer)
            ][:500],
        }
        if redirected is not None:
            out["redirected_from"] = redirected
        return out

    # -- writing ----------------------------------------------------------------------

    async def on_post(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        service = msg.get("service")
        self._check_service(service)
        if msg["type"] == "announcement" and not actor.staff:
            raise ProtocolError(E.STAFF_ONLY_TYPE, "Only staff may post an announcement.")
        if not self._check_text(sender, msg, ("title", "body")):
            return
        await self._take(actor, "topic")
        post_id = await self.ctx.store.incr("seq")
        topic = self.board.open_topic(
            post_id,
            actor,
            self._now(),
            type=str(msg["type"]),
            title=str(msg["title"]).strip(),
            body=str(msg["body"]).strip(),
            lang=str(msg["lang"]),
            service=service,
            name=self._display_name(actor, msg),
            pending=service in self.settings.premoderate,
        )
        await self._remember(actor)
        await self._save([topic.id])
        await self._activity(
            {"type": "question", "kind": topic.type, "topic": topic.id, "service": topic.service}
        )
        self.m_posts.labels(kind=topic.type).inc()
        self._reply(sender, msg, {"t": "qa_posted", "post": self._view(topic, actor, full=True)})
        self._watch(sender, topic.id)

    async def on_reply(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        official = bool(msg.get("official", False))
        if official and not actor.staff:
            raise ProtocolError(E.NOT_OFFICIAL, "Only verified staff may give an official answer.")
        topic = self.board.topic(int(msg["topic"]), actor)
        if not self._check_text(sender, msg, ("body",)):
            return
        await self._take(actor, "reply")
        first_official = official and self.board.official_reply(topic) is None
        post_id = await self.ctx.store.incr("seq")
        reply, topic = self.board.reply(
            post_id,
            actor,
            self._now(),
            topic_id=topic.id,
            body=str(msg["body"]).strip(),
            parent=msg.get("parent"),
            official=official,
            official_service=self._staff_service(actor, topic),
            name=self._display_name(actor, msg),
            pending=topic.service in self.settings.premoderate,
        )
        await self._remember(actor)
        await self._save([reply.id, topic.id])
        now = self._now()
        if official:
            wait = now - topic.created
            await self._activity(
                {
                    "type": "official_answer",
                    "topic": topic.id,
                    "answer": reply.id,
                    "staff": actor.subject,
                    "service": topic.service or "",
                    "first": int(first_official),
                    "wait_s": round(wait, 3),
                }
            )
            if first_official and topic.type in ("question", "problem"):
                self.m_official.labels(service=topic.service or "none").observe(wait)
        else:
            await self._activity({"type": "answer", "topic": topic.id, "answer": reply.id})
        self.m_posts.labels(kind="official" if official else "reply").inc()
        self._reply(sender, msg, {"t": "qa_posted", "post": self._view(reply, actor, full=True)})
        self._watch(sender, topic.id)
        self._updated(topic, reply)
        if topic.author != actor.subject and not reply.pending:
            await self._notice(topic.author, "official" if official else "answered", topic, reply)

    def _staff_service(self, actor: Actor, topic: Post) -> str | None:
        if not actor.staff:
            return None
        profile = self.ctx.world.staff_profile(actor.subject.removeprefix("id:"), actor.name)
        if topic.service and topic.service in profile.services:
            return topic.service
        ordered = [s["id"] for s in self.ctx.world.services if s["id"] in profile.services]
        return topic.service or (ordered[0] if ordered else None)

    async def on_edit(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        if "title" not in msg and "body" not in msg:
            raise ProtocolError(E.EMPTY_EDIT, "Send a new title or body.")
        post = self.board.get(int(msg["post"]), actor)
        if post.author != actor.subject:
            raise ProtocolError(E.NOT_AUTHOR, "Only the author may edit a post.")
        if not self._check_text(sender, msg, ("title", "body")):
            return
        await self._take(actor, "reply")
        title = msg.get("title")
        body = msg.get("body")
        post, revision = self.board.edit(
            actor,
            self._now(),
            post.id,
            title.strip() if isinstance(title, str) else None,
            body.strip() if isinstance(body, str) else None,
        )
        history = [*self.revisions.get(post.id, []), revision]
        self.revisions[post.id] = history
        await self._save([post.id])  # first: a refused write reads the history again
        await self.ctx.store.hset(
            REVISIONS, {str(post.id): json.dumps(history, ensure_ascii=False).encode()}
        )
        self._reply(sender, msg, {"t": "qa_posted", "post": self._view(post, actor, full=True)})
        self._updated(self.board.posts[post.topic], post)

    async def on_vote(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        self.board.get(int(msg["post"]), actor)
        await self._take(actor, "vote")
        post, first = self.board.vote(actor, int(msg["post"]), bool(msg["up"]), self._now())
        await self._remember(actor)
        await self._save([post.id])
        if first and post.kind == "reply" and post.author_role in wire.STAFF_ROLES:
            await self._activity(
                {"type": "helpful", "topic": post.topic, "answer": post.id, "staff": post.author}
            )
        topic = self.board.posts[post.topic]
        sender.reply(self._update(topic, actor, post))
        self._updated(topic, post)

    async def on_accept(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        reply_id = msg.get("reply")
        topic = self.board.accept(actor, int(msg["topic"]), reply_id)
        await self._save([topic.id])
        if reply_id is not None:
            await self._activity({"type": "accepted", "topic": topic.id, "answer": reply_id})
        reply = self.board.posts.get(reply_id) if reply_id is not None else None
        sender.reply(self._update(topic, actor))
        self._updated(topic, reply)

    async def on_flag(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        self.board.get(int(msg["post"]), actor)
        await self._take(actor, "vote")
        post, hid = self.board.flag(actor, self._now(), int(msg["post"]), str(msg["reason"]))
        await self._remember(actor)
        await self._save([post.id])
        topic = self.board.posts[post.topic]
        if hid:
            await self._audit("hide", post, "flags", "flagged")
            await self._notice(post.author, "hidden", topic, post, "flagged")
            self._updated(topic, post)
        sender.reply(self._update(topic, actor))

    async def on_moderate(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        action, reason = str(msg["action"]), redact(str(msg["reason"]))
        post = self.board.moderate(actor, self._now(), int(msg["post"]), action, reason)
        await self._save([post.id, post.topic])
        await self._audit(action, post, actor.subject, reason)
        await self._trail(
            actor, "moderate", str(post.id), {"action": action, "topic": str(post.topic)}
        )
        topic = self.board.posts[post.topic]
        kind = {"hide": "hidden", "restore": "restored", "approve": "approved"}[action]
        await self._notice(post.author, kind, topic, post, reason)
        # The moderator always gets the post they acted on (a topic too), as staff see it.
        sender.reply({**self._update(topic, actor), "post": self._view(post, actor, full=True)})
        self._updated(topic, post)

    async def on_set(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        self._check_service(msg.get("service"))
        topic = self.board.set_topic(
            actor,
            self._now(),
            int(msg["topic"]),
            msg.get("status"),
            msg.get("needs_case"),
            msg.get("service"),
        )
        await self._save([topic.id])
        changes = ",".join(f"{k}={msg[k]}" for k in ("status", "needs_case", "service") if k in msg)
        await self._audit("set", topic, actor.subject, changes)
        await self._trail(
            actor,
            "set",
            str(topic.id),
            {k: str(msg[k]) for k in ("status", "needs_case", "service") if k in msg},
        )
        sender.reply(self._update(topic, actor))
        self._updated(topic)

    async def on_merge(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        # The duplicate's replies are moved as this process knows them: first learn of
        # any another process wrote (a reply there bumps the duplicate's version, so a
        # merge crossing it is made anew, and looks again).
        await self.follow()
        dup, target, moved = self.board.merge(
            actor, self._now(), int(msg["topic"]), int(msg["into"])
        )
        await self._save([dup.id, target.id, *moved], topics=[dup.id, target.id])
        await self._audit("merge", dup, actor.subject, f"into {target.id}")
        await self._trail(actor, "merge", str(dup.id), {"into": str(target.id)})
        await self._notice(dup.author, "merged", dup, dup)
        sender.reply(self._update(dup, actor))
        for s in [s for s in self.watchers.pop(dup.id, ()) if s.open]:
            self._watch(s, target.id)
            s.reply(self._update(dup, Actor.of(s.caller)))
        self._updated(target)

    async def on_revisions(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        if not actor.staff:
            raise ProtocolError(E.NOT_OFFICIAL, "Only moderators may read revisions.")
        post = self.board.get(int(msg["post"]), actor)
        await self._trail(actor, "revisions_read", str(post.id))
        sender.reply(
            {"t": "qa_revisions", "post": post.id, "revisions": self.revisions.get(post.id, [])}
        )

    async def on_queue(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        if not actor.staff:
            raise ProtocolError(E.NOT_OFFICIAL, "The queue is for staff.")
        service = msg.get("service")
        waiting = [
            t
            for t in self.board.topics(actor)
            if self.board.waiting(t) and (service is None or t.service == service)
        ]
        waiting.sort(key=lambda t: (self._due(t) or 0.0, t.created))
        flagged = [
            p
            for p in self.board.posts.values()
            if (p.flags or p.pending or (p.hidden or {}).get("by") == "flags")
            and (service is None or self.board.posts[p.topic].service == service)
        ]
        flagged.sort(key=lambda p: (-self.board.flag_weight(p), p.created))
        sender.reply(
            {
                "t": "qa_queue",
                "waiting": [self._view(t, actor) for t in waiting[:500]],
                "flagged": [self._view(p, actor, full=True) for p in flagged[:500]],
            }
        )

    # -- the citizen's rights ---------------------------------------------------------

    async def on_mine(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        mine = [p for p in self.board.authored(actor.subject) if p.kind == "topic"]
        raw = await self.ctx.store.hget(NOTICES, actor.subject)
        notices = json.loads(raw) if raw else []
        if raw:
            await self.ctx.store.hdel(NOTICES, actor.subject)
        sender.reply(
            {
                "t": "qa_mine",
                "topics": [self._view(t, actor) for t in sorted(mine, key=lambda t: -t.created)][
                    :500
                ],
                "notices": notices,
            }
        )

    async def export_data(self, subject: str) -> Mapping[str, Any]:
        posts = self.board.authored(subject)
        return {
            "qa_posts": [
                {k: v for k, v in p.to_json().items() if k not in PRIVATE_FIELDS}
                | {"votes": len(p.voters)}
                for p in sorted(posts, key=lambda p: p.id)
            ],
            "qa_revisions": {
                str(p.id): self.revisions.get(p.id, []) for p in posts if p.id in self.revisions
            },
            "qa_votes": sorted(p.id for p in self.board.posts.values() if subject in p.voters),
            "qa_flags": [
                {"post": p.id, "reason": p.flags[subject].partition(":")[0]}
                for p in self.board.posts.values()
                if subject in p.flags
            ],
            "qa_notices": json.loads(await self.ctx.store.hget(NOTICES, subject) or b"[]"),
        }

    async def on_export_mine(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        data = {
            "exported": self._now(),
            **{
                k.removeprefix("qa_"): v for k, v in (await self.export_data(actor.subject)).items()
            },
        }
        text = json.dumps(data, ensure_ascii=False)
        size = wire.EXPORT_PART
        chunks = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        for n, chunk in enumerate(chunks, 1):
            sender.reply({"t": "qa_export", "data": chunk, "part": n, "parts": len(chunks)})

    async def erase_data(self, subject: str) -> Erased:
        posts, votes, changed = await self._until_written(lambda: self._erase(subject))
        self._announce(changed)
        return Erased(anonymised=posts + votes)

    async def _erase(self, subject: str) -> tuple[int, int, list[int]]:
        """Erase ``subject`` from the wall: their posts anonymised, their votes removed, and
        the posts that changed (to announce)."""
        own = [p.id for p in self.board.authored(subject)]
        changed, votes = self.board.erase(subject)
        for pid in own:
            self.revisions.pop(pid, None)
        store = self.ctx.store
        if own:
            await store.hdel(REVISIONS, *[str(p) for p in own])
        await store.hdel(NOTICES, subject)
        await store.hdel(IDENTITIES, subject)
        await self.quota.forget(
            subject,
            QUOTA_ACTIONS,
            tuple(
                {
                    self.settings.new_topic_rate,
                    self.settings.topic_rate,
                    self.settings.new_reply_rate,
                    self.settings.reply_rate,
                    self.settings.vote_rate,
                }
            ),
        )
        await self._save(changed)
        self._index().purge()
        await store.append(
            AUDIT, {"action": "erase", "posts": str(len(own)), "ts": str(self._now())}
        )
        return len(own), votes, list(changed)

    def _announce(self, changed: Iterable[int]) -> None:
        for pid in changed:
            post = self.board.posts.get(pid)
            if post is not None and post.kind == "topic":
                self._updated(post)

    async def on_erase_me(self, sender: Sender, msg: Message) -> None:
        actor = self._actor(sender)
        if not msg["confirm"]:
            raise ProtocolError(E.NOT_ERASED, "Send confirm = true to erase your identity.")
        posts, votes, changed = await self._erase(actor.subject)
        sender.reply({"t": "qa_erased", "posts": posts, "votes": votes})
        self._announce(changed)

    # -- jobs -------------------------------------------------------------------------

    async def apply_retention(self) -> None:
        """Archive or purge topics whose type's retention has passed since their last activity."""
        await self._until_written(self._apply_retention)

    async def _apply_retention(self) -> None:
        now = self._now()
        days = self.settings.retention_days
        expired = [
            t
            for t in list(self.board.posts.values())
            if t.kind == "topic"
            and t.type in days
            and now - max(t.activity, t.created) > days[t.type] * 86400
            and t.status != "archived"
        ]
        if not expired:
            return
        if self.settings.retention_action == "archive":
            for t in expired:
                t.status = "archived"
            await self._save([t.id for t in expired])
            for t in expired:
                await self._audit("archive", t, "retention")
            return
        await self._purge(expired)

    async def _purge(self, topics: Iterable[Post]) -> list[int]:
        """Delete ``topics`` with their replies and revisions (audited as a ``purge`` by
        ``retention``); returns the ids of the posts removed."""
        removed: list[int] = []
        for t in topics:
            removed.extend(self.board.remove_topic(t.id))
        if not removed:
            return removed
        for pid in removed:
            self.revisions.pop(pid, None)
        await self.ctx.store.hdel(REVISIONS, *[str(p) for p in removed])
        await self._save([], removed=removed)
        self._index().purge()
        await self.ctx.store.append(
            AUDIT,
            {
                "action": "purge",
                "posts": str(len(removed)),
                "by": "retention",
                "ts": str(self._now()),
            },
        )
        return removed

    async def expire_data(self, kind: str, before: float) -> Erased:
        """Delete or unlink the records of ``kind`` made before ``before`` (see the module's
        note on retention for each kind). ValueError for a kind not ours."""
        return await self._until_written(lambda: self._expire_data(kind, before))

    async def _expire_data(self, kind: str, before: float) -> Erased:
        if kind == "qa_posts":
            return await self._expire_posts(before)
        if kind == "qa_revisions":
            return Erased(removed=await self._expire_revisions(before))
        if kind in ("qa_votes", "qa_flags"):
            expire = self.board.expire_votes if kind == "qa_votes" else self.board.expire_flags
            changed, count = expire(before)
            if changed:
                await self._save(changed)
            return Erased(anonymised=count)
        if kind == "qa_notices":
            return Erased(removed=await self._expire_notices(lambda n: _ts(n) < before))
        raise ValueError(f"the Q&A wall keeps no personal data of kind {kind!r}")

    async def _expire_posts(self, before: float) -> Erased:
        stale = [
            t
            for t in self.board.posts.values()
            if t.kind == "topic" and max(t.activity, t.created) < before
        ]
        purged = await self._purge(stale)
        gone = {t.id for t in stale}
        notices = await self._expire_notices(lambda n: n.get("topic") in gone) if gone else 0
        forgotten = self.board.forget_unused(before)
        if forgotten:
            await self.ctx.store.hdel(IDENTITIES, *forgotten)
        return Erased(removed=len(purged) + notices)

    async def _expire_revisions(self, before: float) -> int:
        removed = 0
        for pid, history in list(self.revisions.items()):
            kept = [r for r in history if _ts(r) >= before]
            if len(kept) == len(history):
                continue
            removed += len(history) - len(kept)
            if kept:
                self.revisions[pid] = kept
                await self.ctx.store.hset(
                    REVISIONS, {str(pid): json.dumps(kept, ensure_ascii=False).encode()}
                )
            else:
                del self.revisions[pid]
                await self.ctx.store.hdel(REVISIONS, str(pid))
        return removed

    async def _expire_notices(self, expired: Callable[[Mapping[str, Any]], bool]) -> int:
        """Delete the kept notices ``expired`` selects; returns how many."""
        store = self.ctx.store
        removed = 0
        for subject, raw in (await store.hgetall(NOTICES)).items():
            notices: list[dict[str, Any]] = json.loads(raw)
            kept = [n for n in notices if not expired(n)]
            if len(kept) == len(notices):
                continue
            removed += len(notices) - len(kept)
            if kept:
                await store.hset(NOTICES, {subject: json.dumps(kept).encode()})
            else:
                await store.hdel(NOTICES, subject)
        return removed

    # -- HTTP -------------------------------------------------------------------------

    async def http_topic(self, req: HttpRequest) -> HttpReply:
        try:
            topic_id = int(req.query.get("id", ""))
        except ValueError:
            raise HttpError(400, "bad_request", "Give the topic's id: ?id=<number>.") from None
        try:
            topic, redirected = self.board.canonical(topic_id, None)
        except ProtocolError as exc:
            raise HttpError(404, "not_found", exc.reason) from None
        body = self._topic_message(topic, None, redirected)
        del body["t"]
        return HttpReply(json.dumps(body, ensure_ascii=False).encode())

    async def http_report(self, req: HttpRequest) -> HttpReply:
        """Per service: questions, answers, official answers, time to official answer p50/p90."""
        per: dict[str, dict[str, Any]] = {}
        waits: dict[str, list[float]] = {}

        def row(service: str) -> dict[str, Any]:
            return per.setdefault(service or "none", {"questions": 0, "answers": 0, "official": 0})

        for _id, f in await self.ctx.store.read(ACTIVITY):
            kind = f.get("type", "")
            topic = self.board.posts.get(int(f.get("topic", "0") or 0))
            service = f.get("service") or (topic.service if topic is not None else "") or ""
            if kind == "question":
                row(service)["questions"] += 1
            elif kind == "answer":
                row(service)["answers"] += 1
            elif kind == "official_answer":
                row(service)["official"] += 1
                if f.get("first") == "1":
                    with contextlib.suppress(KeyError, ValueError):
                        waits.setdefault(service or "none", []).append(float(f["wait_s"]))
        for service, values in waits.items():
            values.sort()
            r = row(service)
            r["official_p50_s"] = statistics.median(values)
            r["official_p90_s"] = _quantile(values, 0.9)
        now = self._now()
        waiting = [t for t in self.board.topics(None) if self.board.waiting(t)]
        for t in waiting:
            r = row(t.service or "")
            r["waiting"] = r.get("waiting", 0) + 1
            due = self._due(t)
            if due is not None and now > due:
                r["overdue"] = r.get("overdue", 0) + 1
        body = {"services": per, "generated": now}
        await self._trail(_http_actor(req), "report_view")
        return HttpReply(json.dumps(body).encode())

    def _history(self) -> Iterable[dict[str, Any]]:
        for topic in sorted(self.board.topics(Actor("", "", "admin")), key=lambda t: t.id):
            replies = [self.board.posts[r] for r in self.board.replies.get(topic.id, [])]
            yield {
                "topic": _record(topic),
                "revisions": self.revisions.get(topic.id, []),
                "replies": [
                    _record(r, r.id == topic.accepted) | {"revisions": self.revisions.get(r.id, [])}
                    for r in replies
                ],
            }

    async def http_export_jsonl(self, req: HttpRequest) -> HttpReply:
        """Every topic with its replies and revisions, one JSON object per line."""
        await self._trail(_http_actor(req), "export", "", {"format": "jsonl"})
        lines = [json.dumps(item, ensure_ascii=False) for item in self._history()]
        audit = [f for _id, f in await self.ctx.store.read(AUDIT)]
        lines.append(json.dumps({"audit": audit}, ensure_ascii=False))
        return HttpReply(
            ("\n".join(lines) + "\n").encode(),
            "application/x-ndjson",
            filename="servicepoint-qa.jsonl",
        )

    async def http_export_csv(self, req: HttpRequest) -> HttpReply:
        """One row per post (topics and replies), for the authority's records."""
        await self._trail(_http_actor(req), "export", "", {"format": "csv"})
        buf = io.StringIO()
        out = csv.writer(buf)
        columns = [
            "id", "kind", "topic", "parent", "type", "status", "service", "lang", "title",
            "body", "author_name", "author_role", "created", "edited", "votes", "official",
            "accepted", "hidden", "merged_into", "revisions",
        ]  # fmt: skip
        out.writerow(columns)
        for item in self._history():
            for rec in [item["topic"], *item["replies"]]:
                out.writerow(
                    [_cell(rec.get(c)) for c in columns[:-1]]
                    + [len(self.revisions.get(int(rec["id"]), []))]
                )
        return HttpReply(
            buf.getvalue().encode("utf-8-sig"),
            "text/csv; charset=utf-8",
            filename="servicepoint-qa.csv",
        )


def _http_actor(req: HttpRequest) -> Actor:
    """The caller of an HTTP route as the audit trail names them (``id:<sub>``)."""
    return Actor(token_actor(req.caller.subject), "", req.caller.role)


def _record(post: Post, accepted: bool = False) -> dict[str, Any]:
    """A post for the agency's record: everything but the identities behind it."""
    data = post.to_json()
    for private in PRIVATE_FIELDS:
        data.pop(private, None)
    data["votes"] = len(post.voters)
    data["flags"] = len(post.flags)
    data["official"] = post.official is not None
    data["accepted"] = accepted
    return data


def _ts(record: Mapping[str, Any]) -> float:
    """A revision's or notice's time; -inf when it has none that can be read (its age is
    unknown, so it counts as expired)."""
    value = record.get("ts")
    if isinstance(value, int | float | str):
        with contextlib.suppress(ValueError):
            return float(value)
    return -math.inf


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]
