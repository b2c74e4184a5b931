"""`Retention`: personal data is kept only as long as configuration says, per kind.

The kinds are the features' `Feature.personal_data` (``chat_lines``, ``tickets``,
``survey_answers``, ...); ``Config.retention_days`` gives each a limit in days (0 or
absent: kept until the citizen erases it). A scheduled job (`Tasks.every`, every
``retention_every_s``) asks each feature, through `Feature.expire_data`, to delete or
anonymise its records of a kind made before the limit, then compacts the store
(Redis: ``BGREWRITEAOF`` and a fresh snapshot), so expired bytes stay on no disk. Each
run that changed anything is recorded in the audit trail with counts only.

A limit for a kind no feature declares is refused at start-up (a typo would otherwise
keep data forever without a word).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from server.audit import AuditLog
from server.plug import Erased, Feature
from server.store import Store
from server.tasks import Repeating, Tasks

log = logging.getLogger(__name__)

DAY_S = 86_400.0


@dataclass(frozen=True)
class RetentionRun:
    """What one run did: per kind, records deleted and anonymised."""

    at: float
    done: dict[str, Erased] = field(default_factory=dict)

    @property
    def removed(self) -> int:
        return sum(e.removed for e in self.done.values())

    @property
    def anonymised(self) -> int:
        return sum(e.anonymised for e in self.done.values())


class Retention:
    """Applies ``retention_days`` to every feature's personal data, on a schedule."""

    def __init__(
        self,
        features: Sequence[Feature],
        days: Mapping[str, float],
        store: Store,
        audit: AuditLog,
        clock: Callable[[], float],
    ) -> None:
        self.owners = self.check(features, days)
        self.days = {kind: float(d) for kind, d in days.items() if d > 0}
        self.store = store
        self.audit = audit
        self.clock = clock
        self.job: Repeating | None = None
        self.last: RetentionRun | None = None
        self.at_home: Callable[[], bool] | None = None
        """Set in a cluster: whether this process is the feature home. Elsewhere the
        home features' kinds are left to the home, which holds their state."""

    @staticmethod
    def check(features: Sequence[Feature], days: Mapping[str, float]) -> dict[str, Feature]:
        """The feature owning each kind; ValueError for a limit on an unknown kind or a
        negative or non-finite one."""
        owners = {kind: f for f in features for kind in (type(f).personal_data or ())}
        unknown = sorted(set(days) - set(owners))
        if unknown:
            raise ValueError(
                f"retention_days names {', '.join(unknown)}, which no feature keeps;"
                f" the kinds are {', '.join(sorted(owners))}"
            )
        bad = sorted(k for k, d in days.items() if not math.isfinite(d) or d < 0)
        if bad:
            raise ValueError(f"retention_days for {', '.join(bad)} must be 0 or more days")
        return owners

    def start(self, tasks: Tasks, every_s: float) -> None:
        if self.days:
            self.job = tasks.every(every_s, self._scheduled, "retention")

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()

    async def _scheduled(self) -> None:
        await self.run()

    async def run(self, now: float | None = None) -> RetentionRun:
        """Expire every kind with a limit as of ``now`` (default: the clock)."""
        now = self.clock() if now is None else now
        result = RetentionRun(now)
        for kind, days in sorted(self.days.items()):
            owner = self.owners[kind]
            if owner.home and self.at_home is not None and not self.at_home():
                continue  # the feature home expires these
            done = await owner.expire_data(kind, now - days * DAY_S)
            if done.removed or done.anonymised:
                result.done[kind] = done
        if result.done:
            await self.audit.record(
                "system",
                "system",
                "rights.retention",
                detail={
                    kind: f"{e.removed} removed, {e.anonymised} anonymised"
                    for kind, e in result.done.items()
                },
            )
            await self.store.compact()
            log.info(
                "retention: %d records removed, %d anonymised (%s)",
                result.removed,
                result.anonymised,
                ", ".join(sorted(result.done)),
            )
        self.last = result
        return result
