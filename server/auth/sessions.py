"""The server's own sign-in sessions, kept in the store (core keyspace ``auth``: ``sp:auth:*``).

A session is what a person gets after signing in at the identity provider: a random
token in an HttpOnly cookie (never in a URL, never readable by the page's scripts) and
a record in the store. The store holds only the token's SHA-256, so a dump of the store
cannot be replayed as a cookie. Each session has a public id (``sid``) that stays the
same when the cookie is rotated, under which it is listed and revoked.

Keys (all relative to the keyspace)::

    t:<sha256 of the cookie token>  -> sid                       (expires with the session)
    s:<sid>                         -> the record (msgpack)      (expires with the session)
    subject:<subject>               -> hash of sid -> b""        (the subject's sessions)
    revoked:<subject>               -> wall time of a revocation by subject (refuses older
                                       role tokens of that subject)
    login:<sha256 of state>         -> a sign-in in progress (single use)

    store = SessionStore(keyspace, ttl_s=900, max_s=43200)
    token, session = await store.create("sara.lind", "staff", "Sara Lind", Roster())
    session = await store.lookup(token)          # None once expired, revoked or rotated
    token, session = await store.rotate(token)   # a fresh token, the same sid
    await store.revoke(session.sid)
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import msgpack

from server.store import Keyspace

REVOKED_CHANNEL = "revoked"
"""Pub/sub channel (in the auth keyspace): every process closes the connections named."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Roster:
    """A staff member's roster entry from their groups: what they serve, where, in what."""

    services: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    desks: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthSession:
    sid: str
    subject: str
    """The person's identity (without the ``id:`` prefix the edge adds)."""
    role: str
    name: str
    created: float
    expires: float
    until: float
    """No refresh extends the session beyond this (wall time)."""
    roster: Roster = field(default_factory=Roster)
    device: str = ""
    """A short label of the browser that signed in ("Chrome on Linux"), for the list."""
    current: str = ""
    """SHA-256 of the current cookie token (rotation deletes the old one's key)."""

    def public(self, current_sid: str = "") -> dict[str, Any]:
        """What a session list shows: no token, no hash."""
        return {
            "id": self.sid,
            "role": self.role,
            "created": self.created,
            "expires": self.expires,
            "device": self.device,
            "current": self.sid == current_sid,
        }

    def pack(self) -> bytes:
        record = asdict(self)
        record["roster"] = {k: list(v) for k, v in record["roster"].items()}
        return msgpack.packb(record)

    @staticmethod
    def unpack(raw: bytes) -> AuthSession | None:
        try:
            record = msgpack.unpackb(raw, raw=False)
            roster = record.pop("roster", {}) or {}
            return AuthSession(
                **record,
                roster=Roster(**{k: tuple(str(x) for x in v) for k, v in roster.items()}),
            )
        except (ValueError, TypeError, msgpack.UnpackException):
            return None


class SessionStore:
    def __init__(
        self,
        keyspace: Keyspace,
        ttl_s: float,
        max_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ks = keyspace
        self.ttl_s = ttl_s
        self.max_s = max_s
        self.clock = clock

    # -- sessions --------------------------------------------------------------

    async def create(
        self, subject: str, role: str, name: str, roster: Roster, device: str = ""
    ) -> tuple[str, AuthSession]:
        """A new session for ``subject``; returns the cookie token (give it only to the
        browser) and the record."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        session = AuthSession(
            sid=secrets.token_hex(12),
            subject=subject,
            role=role,
            name=name,
            created=now,
            expires=min(now + self.ttl_s, now + self.max_s),
            until=now + self.max_s,
            roster=roster,
            device=device[:64],
            current=token_hash(token),
        )
        await self._save(session)
        await self.ks.hset("subject:" + subject, {session.sid: b""})
        await self.ks.expire("subject:" + subject, self.max_s)
        return token, session

    async def lookup(self, token: str) -> AuthSession | None:
        """The live session of a cookie token; None if unknown, expired or revoked."""
        if not token or len(token) > 256:
            return None
        sid = await self.ks.get("t:" + token_hash(token))
        if sid is None:
            return None
        session = await self.get(sid.decode())
        if session is None or session.current != token_hash(token):
            return None
        return session

    async def get(self, sid: str) -> AuthSession | None:
        """The live session with public id ``sid``."""
        raw = await self.ks.get("s:" + sid)
        session = AuthSession.unpack(raw) if raw is not None else None
        if session is None or session.expires <= self.clock():
            return None
        return session

    async def rotate(self, token: str) -> tuple[str, AuthSession] | None:
        """A fresh cookie token for the session of ``token`` (the old one stops working),
        its expiry pushed out by the TTL up to the session's limit; None if not live."""
        session = await self.lookup(token)
        if session is None:
            return None
        now = self.clock()
        new_token = secrets.token_urlsafe(32)
        renewed = replace(
            session, expires=min(now + self.ttl_s, session.until), current=token_hash(new_token)
        )
        if renewed.expires <= now:
            return None
        await self.ks.delete("t:" + session.current)
        await self._save(renewed)
        return new_token, renewed

    async def _save(self, session: AuthSession) -> None:
        ttl = max(1.0, session.expires - self.clock())
        await self.ks.set("s:" + session.sid, session.pack(), ttl)
        await self.ks.set("t:" + session.current, session.sid.encode(), ttl)

    async def revoke(self, sid: str) -> AuthSession | None:
        """End session ``sid`` at once; the record it had, or None if there was none."""
        raw = await self.ks.take("s:" + sid)
        session = AuthSession.unpack(raw) if raw is not None else None
        if session is None:
            return None
        await self.ks.delete("t:" + session.current)
        await self.ks.hdel("subject:" + session.subject, sid)
        return session

    async def of_subject(self, subject: str) -> list[AuthSession]:
        """The live sessions of ``subject``, oldest first (ended ones are pruned)."""
        sids = await self.ks.hgetall("subject:" + subject)
        live: list[AuthSession] = []
        gone: list[str] = []
        for sid in sids:
            session = await self.get(sid)
            if session is None:
                gone.append(sid)
            else:
                live.append(session)
        if gone:
            await self.ks.hdel("subject:" + subject, *gone)
        return sorted(live, key=lambda s: s.created)

    async def revoke_subject(self, subject: str, remember_s: float) -> list[AuthSession]:
        """End every session of ``subject`` and refuse its role tokens issued until now
        (for ``remember_s``); the sessions ended."""
        ended = [s for s in [await self.revoke(x.sid) for x in await self.of_subject(subject)] if s]
        await self.ks.set("revoked:" + subject, repr(self.clock()).encode(), remember_s)
        return ended

    async def revoked_since(self, subject: str) -> float | None:
        """When ``subject`` was last revoked (role tokens issued before are refused)."""
        raw = await self.ks.get("revoked:" + subject)
        try:
            return float(raw) if raw is not None else None
        except ValueError:
            return None

    # -- sign-ins in progress ---------------------------------------------------------

    async def begin_login(self, state: str, record: dict[str, Any], ttl_s: float) -> None:
        await self.ks.set("login:" + token_hash(state), msgpack.packb(record), ttl_s)

    async def take_login(self, state: str) -> dict[str, Any] | None:
        """The sign-in started with ``state``, at most once (a replay finds nothing)."""
        if not state or len(state) > 256:
            return None
        raw = await self.ks.take("login:" + token_hash(state))
        if raw is None:
            return None
        record = msgpack.unpackb(raw, raw=False)
        return record if isinstance(record, dict) else None
