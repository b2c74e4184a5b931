"""`AuditLog`: the append-only trail of privileged actions.

Every privileged action (a duty change, a desk call, a transfer, case notes
shown to staff, a kick, a report, a moderation of the Q&A wall, a view of the
dashboard, an export, a training run, a sign-in, ...) is appended to one
stream of the core keyspace ``audit`` (``sp:audit:log``). Nothing in the
server deletes or rewrites an entry.

An entry holds strings only:

- ``ts``: seconds since the epoch (the features' clock), three decimals;
- ``process``: ``<host>:<pid>`` of the server process that appended it;
- ``actor``: who acted, as a durable subject (``id:<sub>`` for a role token,
  ``citizen:<pseudonym>`` for a citizen), or ``system`` for the server itself;
- ``role``: the actor's role then;
- ``action``: ``<feature>.<verb>`` (``desks.duty``, ``moderation.kick``, ...);
- ``target``: on whom or what: a subject, a ticket, a post or an event id;
- ``detail``: a small JSON object of short strings (a status, a desk, a format).

Personal data is minimised: subjects and ids, never a citizen's name or free
text (a reason typed by a moderator, a note, a chat line). `record` enforces
the shape (an action name, short values, personal data found by
`server.privacy` redacted) but not the meaning: callers pass ids.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Final

from server.privacy import redact
from server.store import Keyspace

STREAM: Final = "log"
"""The stream in the ``audit`` keyspace: ``sp:audit:log``."""
FIELDS: Final = ("ts", "process", "actor", "role", "action", "target", "detail")
"""The fields of an entry, in the order exports show them (after ``id``)."""
SYSTEM: Final = "system"
"""The actor (and role) of what the server does by itself (a rules file reloaded)."""
MAX_TARGET: Final = 128
MAX_DETAIL_KEYS: Final = 16
MAX_DETAIL_VALUE: Final = 64
PAGE: Final = 1000

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


def default_process() -> str:
    """``<host>:<pid>`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def token_actor(subject: str) -> str:
    """The actor for a role token's subject, as the WebSocket edge names it (``id:<sub>``),
    so one person's entries match whether they acted over HTTP or on the WebSocket."""
    return subject if not subject or subject.startswith("id:") else "id:" + subject


class AuditLog:
    """Append to and search the audit stream of ``keyspace`` (the core keyspace ``audit``)."""

    def __init__(
        self, keyspace: Keyspace, process: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.keyspace = keyspace
        self.process = process
        self.clock = clock
        """Wall time for ``ts`` (the app passes the features' clock)."""

    async def record(
        self,
        actor: str,
        role: str,
        action: str,
        target: str = "",
        detail: Mapping[str, str] | None = None,
    ) -> str:
        """Append one entry; returns its stream id.

        ``detail`` values are cut to 64 characters (16 keys at most) and, like
        ``target``, passed through `server.privacy.redact`. Raises ValueError
        for an ``action`` that is not ``<feature>.<verb>`` (lowercase, dotted).
        """
        if not _ACTION.match(action):
            raise ValueError(f"audit action {action!r} is not <feature>.<verb>")
        fields = {
            "ts": f"{self.clock():.3f}",
            "process": self.process,
            "actor": actor[:MAX_TARGET],
            "role": role[:32],
            "action": action,
            "target": redact(str(target))[:MAX_TARGET],
        }
        if detail:
            items = sorted(detail.items())[:MAX_DETAIL_KEYS]
            fields["detail"] = json.dumps(
                {str(k)[:32]: redact(str(v))[:MAX_DETAIL_VALUE] for k, v in items},
                ensure_ascii=False,
                separators=(",", ":"),
                sort_keys=True,
            )
        return await self.keyspace.append(STREAM, fields)

    async def search(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = 1000,
    ) -> list[dict[str, str]]:
        """Entries matching every filter given, oldest first; the newest ``limit`` of them
        (None: all).

        ``actor`` and ``target`` match exactly; ``action`` exactly, or as a prefix
        when it ends with ``*`` (``desks.*``); ``since``/``until`` bound ``ts``
        (seconds since the epoch, inclusive). Each entry is its fields plus ``id``
        (the stream id); ``detail`` stays JSON text ("{}" when there was none).
        """
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        prefix = action[:-1] if action is not None and action.endswith("*") else None
        out: deque[dict[str, str]] = deque(maxlen=limit)
        after = "0-0"
        while True:
            page = await self.keyspace.read(STREAM, after, PAGE)
            for entry_id, fields in page:
                if actor is not None and fields.get("actor") != actor:
                    continue
                if target is not None and fields.get("target") != target:
                    continue
                got = fields.get("action", "")
                if prefix is not None:
                    if not got.startswith(prefix):
                        continue
                elif action is not None and got != action:
                    continue
                if since is not None or until is not None:
                    try:
                        ts = float(fields.get("ts", ""))
                    except ValueError:
                        continue
                    if (since is not None and ts < since) or (until is not None and ts > until):
                        continue
                out.append(
                    {"id": entry_id, **{k: fields.get(k, "") for k in FIELDS}}
                    | {"detail": fields.get("detail") or "{}"}
                )
            if len(page) < PAGE:
                return list(out)
            after = page[-1][0]
