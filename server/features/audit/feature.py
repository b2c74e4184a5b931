"""`AuditTrail`: the admins' view of the audit trail (`server.audit.AuditLog`).

The trail itself is written by the features and the sign-in through
``FeatureContext.audit``; this feature only reads it, over two GET routes
for admins (the permission matrix, ``protocol/permissions.py``):

- ``/api/audit/search?actor=&action=&target=&since=&until=&limit=``: JSON
  ``{"entries": [...], "truncated": bool}``, oldest first, the newest
  ``limit`` (default 1000, at most 10000) matches; ``action`` may end with
  ``*`` (``desks.*``); ``since`` and ``until`` are seconds since the epoch or
  ISO 8601 dates or times (UTC unless they say otherwise), inclusive.
- ``/api/audit/export?format=jsonl|csv`` (same filters, no limit): a download.

Each search and export is itself recorded (``audit.search``, ``audit.export``):
who looked at the trail is on the trail.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from protocol.messages import audit as wire
from server.audit import FIELDS, AuditLog, token_actor
from server.plug import Feature, HttpError, HttpReply, HttpRequest, HttpRoute

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1000


class AuditTrail(Feature):
    name = "audit"
    personal_data = ()  # the trail itself is pseudonymised by server.rights on erasure
    protocol = wire.PROTOCOL

    def http_routes(self) -> Mapping[str, HttpRoute]:
        return {
            "search": HttpRoute(self.http_search),
            "export": HttpRoute(self.http_export),
        }

    def _log(self) -> AuditLog:
        if self.ctx.audit is None:
            raise HttpError(503, "unavailable", "This server keeps no audit trail.")
        return self.ctx.audit

    async def _find(self, req: HttpRequest, limit: int | None) -> list[dict[str, str]]:
        q = req.query
        since, until = _time(q.get("since"), "since"), _time(q.get("until"), "until")
        if since is not None and until is not None and until < since:
            raise HttpError(400, "bad_request", "'until' is before 'since'.")
        return await self._log().search(
            actor=q.get("actor") or None,
            action=q.get("action") or None,
            target=q.get("target") or None,
            since=since,
            until=until,
            limit=limit,
        )

    async def _viewed(self, req: HttpRequest, action: str, found: int, **detail: str) -> None:
        filters = {
            k: "1" for k in ("actor", "action", "target", "since", "until") if req.query.get(k)
        }
        await self._log().record(
            token_actor(req.caller.subject),
            req.caller.role,
            action,
            detail={
                "entries": str(found),
                **({"filters": ",".join(filters)} if filters else {}),
                **detail,
            },
        )

    async def http_search(self, req: HttpRequest) -> HttpReply:
        text = req.query.get("limit") or str(DEFAULT_LIMIT)
        if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
            raise HttpError(400, "bad_request", f"limit must be 1..{MAX_LIMIT}.")
        limit = int(text)
        found = await self._find(req, limit + 1)
        truncated = len(found) > limit
        entries = found[-limit:]
        await self._viewed(req, "audit.search", len(entries))
        body = {"entries": [_decoded(e) for e in entries], "truncated": truncated}
        return HttpReply(json.dumps(body, ensure_ascii=False).encode())

    async def http_export(self, req: HttpRequest) -> HttpReply:
        fmt = req.query.get("format") or "jsonl"
        if fmt not in ("jsonl", "csv"):
            raise HttpError(400, "bad_request", "format must be jsonl or csv.")
        entries = await self._find(req, None)
        await self._viewed(req, "audit.export", len(entries), format=fmt)
        if fmt == "jsonl":
            body = "".join(json.dumps(_decoded(e), ensure_ascii=False) + "\n" for e in entries)
            return HttpReply(body.encode(), "application/x-ndjson", filename="audit.jsonl")
        buf = io.StringIO()
        out = csv.writer(buf)
        out.writerow(["id", *FIELDS])
        for e in entries:
            out.writerow([_cell(e.get(k, "")) for k in ("id", *FIELDS)])
        return HttpReply(
            buf.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", filename="audit.csv"
        )


def _decoded(entry: Mapping[str, str]) -> dict[str, Any]:
    """An entry for JSON: ``detail`` as an object."""
    out: dict[str, Any] = dict(entry)
    try:
        detail = json.loads(entry.get("detail") or "{}")
    except ValueError:
        detail = {}
    out["detail"] = detail if isinstance(detail, dict) else {}
    return out


def _time(text: str | None, name: str) -> float | None:
    """Seconds since the epoch, from seconds or an ISO 8601 date or time (UTC if naive)."""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise HttpError(
            400, "bad_request", f"'{name}' must be seconds since the epoch or ISO 8601."
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _cell(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
