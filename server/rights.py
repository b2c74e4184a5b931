"""`DataRights`: a citizen's access, portability and erasure (GDPR art. 15, 17, 20).

One place asks every holder of personal data: each feature through the plug
(`Feature.personal_data`, `export_data`, `erase_data`; `expire_data` serves the
retention job, `server.retention`) and the core's own
holders, which no feature owns:

- blocks (`server.blocks`): whom the person blocked, and blocks of them;
- the eID verification (`server.auth.verified`): only the flag and a hash;
- the audit trail (`server.audit`): entries naming the person as actor or
  target are kept (the record of what staff did must stay) with the subject
  replaced by one ``erased:<random>`` tombstone per erasure.

In a cluster, the features that run at the feature home (`Feature.home`: the desks,
feedback, the greeter) hold their state there: a request on another process asks the
home for their part (`HomeRights`), first, so an erasure the home cannot do now fails
before anything else is erased (``not_ready``: try again).

Erasure ends with `Store.compact` (Redis: ``BGREWRITEAOF`` and a fresh
snapshot), so the erased bytes are on no disk either. Every request is
recorded in the audit trail, by the subject of a tombstone, never the
citizen's.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from protocol.messages.core import MY_DATA_PART
from server.audit import STREAM as AUDIT_STREAM
from server.audit import AuditLog
from server.auth.verified import Verifications
from server.blocks import Blocks
from server.plug import Erased, Feature
from server.store import Store, rewrite_entries

log = logging.getLogger(__name__)


class RightsUnavailable(Exception):
    """The feature home could not answer for its features now (try again)."""


class HomeRights(Protocol):
    """The feature home, for the data rights of its features (`server.cluster.home`)."""

    @property
    def is_home(self) -> bool: ...
    async def rights(self, feature: str, op: str, subject: str) -> dict[str, Any]: ...


class DataRights:
    """Export and erase one subject's data across every feature and the core."""

    def __init__(
        self,
        features: Sequence[Feature],
        store: Store,
        blocks: Blocks,
        audit: AuditLog,
        verifications: Verifications | None,
    ) -> None:
        self.features = list(features)
        self.store = store
        self.blocks = blocks
        self.audit = audit
        self.verifications = verifications
        self.home: HomeRights | None = None
        """Set in a cluster: the home features' part is asked there."""

    def _at_home(self, feature: Feature) -> HomeRights | None:
        home = self.home
        if home is None or not feature.home or home.is_home:
            return None
        return home

    async def _remote(self, home: HomeRights, feature: str, op: str, subject: str) -> Any:
        try:
            return await home.rights(feature, op, subject)
        except Exception as exc:
            raise RightsUnavailable(f"{feature}: {exc}") from None

    @staticmethod
    def check(features: Sequence[Feature]) -> None:
        """Refuse features that leave `Feature.personal_data` unsaid, or name kinds without
        implementing both `export_data` and `erase_data` (a new feature cannot forget)."""
        for feature in features:
            cls = type(feature)
            kinds = cls.personal_data
            if kinds is None:
                raise TypeError(
                    f"feature {cls.name!r} must declare personal_data (() when it keeps none)"
                )
            if kinds and (
                cls.export_data is Feature.export_data
                or cls.erase_data is Feature.erase_data
                or cls.expire_data is Feature.expire_data
            ):
                raise TypeError(
                    f"feature {cls.name!r} keeps {', '.join(kinds)} but does not implement"
                    " export_data, erase_data and expire_data"
                )

    async def export(self, subject: str) -> dict[str, Any]:
        """Everything held about ``subject``: one section per feature that keeps any."""
        out: dict[str, Any] = {}
        for feature in self.features:
            if not feature.personal_data:
                continue
            if (home := self._at_home(feature)) is not None:
                out[feature.name] = await self._remote(home, feature.name, "export", subject)
            else:
                out[feature.name] = dict(await feature.export_data(subject))
        out["blocks"] = {"blocked": len(self.blocks.blocked_by(subject))}
        record = await self.verifications.record(subject) if self.verifications else None
        out["identity"] = {
            "verified": bool(record and record.get("verified")),
            "verified_at": record.get("at") if record else None,
        }
        out["audit"] = {"entries_naming_you": len(await self._audit_hits(subject))}
        return out

    async def erase(self, subject: str) -> Erased:
        """Erase ``subject`` everywhere, then compact the store; what was done in total."""
        removed = anonymised = 0
        # The home's part first: if it cannot be done now, nothing else is either.
        for feature in self.features:
            if feature.personal_data and (home := self._at_home(feature)) is not None:
                result = await self._remote(home, feature.name, "erase", subject)
                removed += int(result.get("removed", 0))
                anonymised += int(result.get("anonymised", 0))
        for feature in self.features:
            if feature.personal_data and self._at_home(feature) is None:
                done = await feature.erase_data(subject)
                removed += done.removed
                anonymised += done.anonymised
        blocks = len(self.blocks.involving(subject))
        await self.blocks.forget(subject)
        removed += blocks
        if self.verifications is not None and await self.verifications.forget(subject):
            removed += 1
        tombstone = "erased:" + secrets.token_hex(8)
        anonymised += await self._pseudonymise_audit(subject, tombstone)
        await self.audit.record(
            tombstone,
            "citizen",
            "rights.erase",
            detail={"removed": str(removed), "anonymised": str(anonymised)},
        )
        await self.store.compact()
        log.info("erased one identity: %d records removed, %d anonymised", removed, anonymised)
        return Erased(removed=removed, anonymised=anonymised)

    async def _audit_hits(self, subject: str) -> list[tuple[str, dict[str, str]]]:
        ks = self.audit.keyspace
        hits: list[tuple[str, dict[str, str]]] = []
        after = "0-0"
        while True:
            page = await ks.read(AUDIT_STREAM, after, 1000)
            if not page:
                return hits
            for entry_id, fields in page:
                if any(subject in value for value in fields.values()):
                    hits.append((entry_id, dict(fields)))
            after = page[-1][0]

    async def _pseudonymise_audit(self, subject: str, tombstone: str) -> int:
        """Replace ``subject`` in audit entries by ``tombstone`` (`rewrite_entries`)."""
        return await rewrite_entries(
            self.audit.keyspace,
            AUDIT_STREAM,
            lambda f: any(subject in value for value in f.values()),
            lambda f: {k: v.replace(subject, tombstone) for k, v in f.items()},
        )


def export_parts(data: Mapping[str, Any], now: float) -> list[str]:
    """The export as one JSON document, cut into the parts ``my_data`` messages carry."""
    text = json.dumps({"exported": now, **data}, ensure_ascii=False, sort_keys=True)
    size = MY_DATA_PART
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
