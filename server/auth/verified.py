"""Verified citizens: a pseudonymous citizen identity that proved who it is at an eID broker.

Only a *pairwise, salted* hash of the broker's subject is kept (HMAC-SHA256 with this
service's own salt, over the issuer and the subject), with ``verified: true`` and when,
against the citizen's identity. No other claim of the broker (no personnummer, CPR number,
name or birth date) is read into the record, so staff can be shown only "verified". The
same person verifying again from another citizen identity gives the same hash, which a
case worker may compare; nobody else can link it to the person.

    ver = Verifications(keyspace, salt=b"...", ttl_s=365 * 86400)
    await ver.mark("citizen:c.abc", issuer, eid_subject)
    await ver.is_verified("citizen:c.abc")            # True
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import msgpack

from server.store import Keyspace


class Verifications:
    def __init__(
        self,
        keyspace: Keyspace,
        salt: bytes,
        ttl_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(salt) < 16:
            raise ValueError("the pairwise salt needs at least 16 bytes")
        self.ks = keyspace
        self._salt = salt
        self.ttl_s = ttl_s
        self.clock = clock

    def pairwise(self, issuer: str, subject: str) -> str:
        """The pairwise hash of a broker subject (hex); the subject itself is never kept."""
        message = issuer.rstrip("/").encode() + b"\x00" + subject.encode()
        return hmac.new(self._salt, message, hashlib.sha256).hexdigest()

    async def mark(self, citizen: str, issuer: str, subject: str) -> str:
        """Record that ``citizen`` (a ``citizen:`` subject) proved an identity; the hash."""
        digest = self.pairwise(issuer, subject)
        record = {"verified": True, "hash": digest, "at": round(self.clock())}
        await self.ks.set("verified:" + citizen, msgpack.packb(record), self.ttl_s)
        return digest

    async def record(self, citizen: str) -> dict[str, Any] | None:
        raw = await self.ks.get("verified:" + citizen)
        if raw is None:
            return None
        value = msgpack.unpackb(raw, raw=False)
        return value if isinstance(value, dict) else None

    async def is_verified(self, citizen: str) -> bool:
        record = await self.record(citizen)
        return bool(record and record.get("verified") is True)

    async def forget(self, citizen: str) -> bool:
        """Erase the verification of ``citizen`` (data rights: erasure)."""
        return await self.ks.delete("verified:" + citizen) > 0
