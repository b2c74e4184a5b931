"""The permission matrix (protocol/permissions.py): complete, documented, and true on a server.

The walk starts one real server and connects one client per role (citizens
without a token); every role sends every message that some role may not
send, with a minimal valid body, and calls every HTTP route with its token.
Each cell must be refused exactly when the matrix says so: ``forbidden``
from the session for a message, 401/403 from the edge for a route.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.client import AgentClient
from protocol import permissions
from protocol.catalogue import CLIENT_MESSAGES, FEATURES
from protocol.codec import decode_client, encode
from protocol.spec import ROLES as TOKEN_ROLES
from protocol.spec import FeatureProtocol, Field, c2s
from server.app import ServicePoint, api_routes
from server.features import FEATURES as FEATURE_CLASSES
from server.plug import Feature, HttpReply, HttpRequest, HttpRoute, StartupError
from server.store import MemoryStore
from tests.server.features.fakes import make_context
from tests.server.harness import http_url, mint, running_server, ws_url

WALKED = tuple(r for r in permissions.ROLES if r != "verified")
"""Roles a session can hold today. ``verified`` is a citizen's flag (from the sign-in);
its cells are walked as a citizen's while they equal the citizen's (`verified_extra`)."""

BODIES: dict[str, dict[str, Any]] = {
    # Without a session id this would end the sender's own session (close 4010).
    "session_revoke": {"session": "no-such-session"},
}
"""Bodies for messages whose minimal body would have side effects breaking later cells."""


# -- the matrix is complete and current ---------------------------------------------------


def test_the_security_doc_is_current() -> None:
    text = permissions.DOC.read_text(encoding="utf-8")
    assert permissions.splice_docs(text) == text, "run: python -m protocol.permissions --docs"


def test_every_client_message_has_a_row_under_its_feature() -> None:
    rows = {t: f for f, table in permissions.MESSAGES.items() for t in table}
    assert set(rows) == set(CLIENT_MESSAGES)
    for t, spec in CLIENT_MESSAGES.items():
        assert rows[t] == spec.feature, t
        assert spec.roles == permissions.spec_roles(permissions.message_roles(t)), t
    assert list(permissions.MESSAGES) == [fp.name for fp in FEATURES]
    for fp in FEATURES:  # the catalogue's features carry the matrix's roles too
        assert all(m == CLIENT_MESSAGES[m.type] for m in fp.client)


def test_every_route_has_a_row() -> None:
    served = set()
    for cls in FEATURE_CLASSES:
        feature = cls(make_context(cls.name, cls.Settings(), store=MemoryStore()))
        served |= {f"/api/{cls.name}/{name}" for name in feature.http_routes()}
    assert served == set(permissions.ROUTES)
    assert set(permissions.ROUTE_DOCS) == set(permissions.ROUTES)


def test_roles_and_columns() -> None:
    assert set(permissions.ROLES) == set(TOKEN_ROLES) | {"verified"}
    permissions.check_matrix()
    # A verified citizen may do what a citizen may; granting more needs the session flag
    # (server/auth) and a walk of those cells with a verified citizen.
    assert permissions.verified_extra() == {}
    assert permissions.allows("kick", "host") and not permissions.allows("kick", "staff")
    assert permissions.allows("/api/qa/topic", "citizen")
    assert not permissions.allows("/api/audit/search", "manager")
    with pytest.raises(KeyError):
        permissions.allows("nope", "admin")


# -- the catalogue and the app refuse a disagreement ---------------------------------------


def _specs(*types: str, feature: str = "moderation", **kw: Any) -> dict[str, Any]:
    fp = FeatureProtocol(feature, tuple(c2s(t, {}, "A message.", **kw) for t in types), (), {})
    return {m.type: m for m in fp.client}


def test_the_catalogue_refuses_messages_the_matrix_does_not_know() -> None:
    every = dict(CLIENT_MESSAGES)
    bare = {t: replace(s, roles=()) for t, s in every.items()}
    assert permissions.apply(bare) == every
    with pytest.raises(ValueError, match="'poke' of 'moderation' is not in the permission"):
        permissions.apply({**bare, **_specs("poke")})
    with pytest.raises(ValueError, match="declares roles in its module"):
        permissions.apply({**bare, **_specs("kick", roles=("admin",))})
    with pytest.raises(ValueError, match="listed under 'moderation' but belongs to 'chat'"):
        permissions.apply({**bare, **_specs("kick", feature="chat")})
    del bare["kick"]
    with pytest.raises(ValueError, match=r"no feature defines: \['kick'\]"):
        permissions.apply(bare)


class _Extra(Feature):
    name = "insight"

    def http_routes(self) -> Mapping[str, HttpRoute]:
        return {"secret": HttpRoute(_reply)}


class _Disagrees(Feature):
    name = "qa"

    def http_routes(self) -> Mapping[str, HttpRoute]:
        return {"topic": HttpRoute(_reply, ("admin",))}


async def _reply(req: HttpRequest) -> HttpReply:
    return HttpReply(b"{}")


def _features() -> list[Feature]:
    return [
        cls(make_context(cls.name, cls.Settings(), store=MemoryStore())) for cls in FEATURE_CLASSES
    ]


def test_the_app_takes_route_roles_from_the_matrix_and_refuses_a_disagreement() -> None:
    features = _features()
    api = api_routes(features)
    assert api["/api/insight/dashboard"].roles == ("manager", "admin")
    assert api["/api/qa/topic"].public and not api["/api/insight/dashboard"].public
    assert api["/api/events/questions"].roles == ("host", "admin")  # declared and agreeing
    extra = _Extra(make_context("insight", None, store=MemoryStore()))
    with pytest.raises(StartupError, match="/api/insight/secret is not in the permission matrix"):
        api_routes([*features, extra])
    wrong = _Disagrees(make_context("qa", None, store=MemoryStore()))
    with pytest.raises(StartupError, match="/api/qa/topic: the feature declares roles"):
        api_routes([wrong])
    with pytest.raises(StartupError, match="lists routes no feature serves"):
        api_routes([f for f in features if f.name != "audit"])


# -- the walk ----------------------------------------------------------------------------


def minimal(f: Field) -> Any:
    """A valid value for ``f`` that names nothing that exists (ids at their maximum)."""
    if f.kind == "int":
        return int(f.max) if f.max is not None else int(f.min or 0)
    if f.kind == "float":
        return float(f.min) if f.min is not None else 0.0
    if f.kind == "str":
        n = max(f.min_len or 0, 1)
        return "z" * (n if f.max_len is None else min(n, f.max_len))
    if f.kind == "enum":
        assert f.values
        return f.values[0]
    if f.kind == "bool":
        return False
    if f.kind == "bin":
        return bytes(f.min_len or 0)
    if f.kind == "list":
        assert f.items is not None
        return [minimal(f.items) for _ in range(f.min_len or 0)]
    assert f.kind == "map"
    return {k: minimal(v) for k, v in (f.fields or {}).items() if v.required}


def body(t: str) -> dict[str, Any]:
    msg = {
        "t": t,
        **{k: minimal(f) for k, f in CLIENT_MESSAGES[t].fields.items() if f.required},
        **BODIES.get(t, {}),
    }
    assert decode_client(encode(msg)) == msg  # valid: the cell tests the role, not the body
    return msg


def privileged() -> list[str]:
    """Messages some walked role may not send."""
    return [t for t in CLIENT_MESSAGES if not all(permissions.allows(t, role) for role in WALKED)]


@contextlib.asynccontextmanager
async def clients(sp: ServicePoint) -> AsyncIterator[dict[str, AgentClient]]:
    by_role: dict[str, AgentClient] = {}
    async with contextlib.AsyncExitStack() as stack:
        for role in WALKED:
            token = None if role == "citizen" else mint(role, f"Walker {role}", f"walk-{role}")
            by_role[role] = await stack.enter_async_context(
                AgentClient(ws_url(sp), name=f"Walker {role}", token=token)
            )
        yield by_role


async def send_all(client: AgentClient, role: str, types: list[str]) -> dict[str, str]:
    """Each message in turn; what happened: ``forbidden`` or ``served`` (any other answer)."""
    out: dict[str, str] = {}
    for t in types:
        client.messages.clear()
        await client.send(body(t))
        await client.sync()
        refused = [
            m
            for m in client.messages
            if m["t"] == "error" and m.get("ref") == t and m["code"] == "forbidden"
        ]
        out[t] = "forbidden" if refused else "served"
    assert client.closed is not None and not client.closed.done(), (role, client.closed)
    return out


async def call_all(sp: ServicePoint, role: str) -> dict[str, str]:
    """Every route with the role's bearer token (citizens: none): ``refused`` or ``served``."""
    headers = {} if role == "citizen" else {"Authorization": "Bearer " + mint(role, "W", "w")}
    out: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=10, headers=headers) as http:
        for path in permissions.ROUTES:
            reply = await http.get(http_url(sp, path))
            code = ""
            with contextlib.suppress(ValueError, KeyError, TypeError):
                code = reply.json()["error"]["code"]
            edge_refused = (reply.status_code, code) in (
                (401, "unauthorized"),
                (403, "forbidden"),
            )
            if role == "citizen" and not edge_refused and permissions.route_rule(path) != "public":
                raise AssertionError(
                    f"{path} served a citizen without a token: {reply.status_code}"
                )
            out[path] = "refused" if edge_refused else "served"
    return out


async def test_the_whole_matrix_holds_on_a_running_server(tmp_path: Path) -> None:
    types = privileged()
    assert {"kick", "duty", "qa_moderate", "greeter_reply", "event_caption"} <= set(types)
    async with (
        running_server(tmp_path, rate_per_s=10_000, rate_burst=10_000, max_errors=100_000) as sp,
        clients(sp) as by_role,
    ):
        sent = await asyncio.gather(*(send_all(c, r, types) for r, c in by_role.items()))
        called = await asyncio.gather(*(call_all(sp, r) for r in WALKED))
    wrong: list[str] = []
    for role, cells in zip(WALKED, sent, strict=True):
        for t, got in cells.items():
            want = "served" if permissions.allows(t, role) else "forbidden"
            if got != want:
                wrong.append(f"{role} {t}: {got}, the matrix says {want}")
    for role, routes in zip(WALKED, called, strict=True):
        for path, got in routes.items():
            want = "served" if permissions.allows(path, role) else "refused"
            if got != want:
                wrong.append(f"{role} GET {path}: {got}, the matrix says {want}")
    assert not wrong, "\n".join(wrong)
    # The verified column is the citizen's (test_roles_and_columns), so walking the
    # citizen walked it too.
    assert all(
        permissions.allows(k, "verified") == permissions.allows(k, "citizen")
        for k in [*CLIENT_MESSAGES, *permissions.ROUTES]
    )
