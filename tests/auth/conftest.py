"""Fixtures for sign-in: a real OpenID Connect provider and servers that sign in with it.

``provider``      `oidc-provider` (tests/oidc/provider.mjs, Node) on loopback for the whole
                  session, with the staff users and groups of that script, PKCE required,
                  dynamic registration on, and an RSA key of ours (``provider.key``) so tests
                  can craft ID tokens the provider's JWKS vouches for.
``eid_provider``  a second instance with citizens (the eID broker stand-in).
``signin``        ``async with signin(tmp_path, **auth) as sp``: a `ServicePoint` on a free
                  port whose ``auth`` section points at ``provider`` (a client registered
                  for that port), role map: sp-admins admin, sp-managers manager, sp-hosts
                  host, sp-captioners captioner, sp-staff staff.
``sign_in``       ``await sign_in(sp, "sara.lind")``: the whole code flow from Python with a
                  cookie-keeping httpx client following the redirects and the provider's
                  login form; returns the `Browser` (its cookies hold the session).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from agents.client import AgentClient
from server.app import ServicePoint
from server.config import Config

ROOT = Path(__file__).resolve().parents[2]
OIDC = ROOT / "tests" / "oidc"
SECRET = "auth-test-secret-not-for-production-0123"
ROLE_MAP = {
    "sp-admins": "admin",
    "sp-managers": "manager",
    "sp-hosts": "host",
    "sp-captioners": "captioner",
    "sp-staff": "staff",
}
ROSTER_MAP = {
    "sp-desk-general": {"services": ["general", "registration"], "desks": ["desk-1", "desk-2"]},
    "sp-desk-permits": {"services": ["permits"], "desks": ["desk-3"]},
    "sp-lang-da": {"languages": ["da", "en"]},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Provider:
    issuer: str
    key: RSAKey
    """The private signing key the provider's JWKS lists (kid test-rsa-1)."""
    proc: subprocess.Popen[str]
    log: Path

    def register(self, redirect_uris: list[str], post_logout: list[str]) -> tuple[str, str]:
        """A client registered for these URIs (dynamic registration): id and secret."""
        body = {
            "redirect_uris": redirect_uris,
            "post_logout_redirect_uris": post_logout,
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }
        resp = httpx.post(self.issuer + "/reg", json=body, timeout=10)
        assert resp.status_code == 201, resp.text
        data = resp.json()
        return str(data["client_id"]), str(data["client_secret"])


def _start_provider(tmp: Path, users: str) -> Provider:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for the test OIDC provider"
    assert (OIDC / "node_modules" / "oidc-provider").is_dir(), (
        "tests/oidc/node_modules is missing: run `make setup` (npm ci in tests/oidc)"
    )
    key = RSAKey.generate_key(2048, parameters={"kid": "test-rsa-1", "use": "sig", "alg": "RS256"})
    jwks = tmp / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
    jwks.chmod(0o600)
    log = tmp / "provider.log"
    env = {
        **os.environ,
        "OIDC_PORT": "0",
        "OIDC_HOST": "127.0.0.1",
        "OIDC_JWKS_FILE": str(jwks),
        "OIDC_REGISTRATION": "1",
        "OIDC_USERS": users,
    }
    err = log.open("w")
    proc = subprocess.Popen(
        [node, str(OIDC / "provider.mjs")],
        cwd=OIDC,
        env=env,
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
    )
    err.close()
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        pytest.fail(f"the OIDC provider did not start:\n{log.read_text()[-3000:]}")
    issuer = json.loads(line)["issuer"]
    return Provider(issuer, key, proc, log)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    p = _start_provider(tmp_path_factory.mktemp("oidc"), "staff")
    try:
        yield p
    finally:
        _stop(p.proc)


@pytest.fixture(scope="session")
def eid_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    p = _start_provider(tmp_path_factory.mktemp("eid"), "eid")
    try:
        yield p
    finally:
        _stop(p.proc)


def auth_section(provider: Provider, port: int, **overrides: Any) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    client_id, secret = provider.register(
        [base + "/auth/callback", base + "/auth/eid/callback"], [base + "/"]
    )
    return {
        "issuer": provider.issuer,
        "client_id": client_id,
        "client_secret": secret,
        "role_map": ROLE_MAP,
        "roster_map": ROSTER_MAP,
        "check_every_s": 0.2,
        **overrides,
    }


@contextlib.asynccontextmanager
async def serving(
    data_dir: Path, port: int, sections: dict[str, dict[str, Any]], **settings: Any
) -> AsyncIterator[ServicePoint]:
    sections = {k: dict(v) for k, v in sections.items()}
    sections.setdefault("voice", {}).setdefault("hosts", "127.0.0.1")
    config = Config(
        host="127.0.0.1",
        port=port,
        data_dir=data_dir,
        secret=SECRET,
        features=sections,
        **settings,
    )
    async with ServicePoint(config) as sp:
        yield sp


SignIn = Callable[..., contextlib.AbstractAsyncContextManager[ServicePoint]]


@pytest.fixture
def signin(provider: Provider) -> SignIn:
    def _open(
        data_dir: Path, eid: Provider | None = None, **auth: Any
    ) -> contextlib.AbstractAsyncContextManager[ServicePoint]:
        port = free_port()
        sections = {"auth": auth_section(provider, port, **auth)}
        if eid is not None:
            eid_section = auth_section(eid, port)
            sections["auth_eid"] = {
                k: eid_section[k] for k in ("issuer", "client_id", "client_secret")
            }
        return serving(data_dir, port, sections)

    return _open


def base_url(sp: ServicePoint) -> str:
    return f"http://127.0.0.1:{sp.port}"


class Browser(httpx.AsyncClient):
    """An httpx client that keeps cookies and records every URL it was sent to."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(follow_redirects=True, timeout=15, **kw)
        self.visited: list[str] = []
        self.event_hooks["request"] = [self._seen]

    async def _seen(self, request: httpx.Request) -> None:
        self.visited.append(str(request.url))

    def cookie(self, name: str) -> str | None:
        for c in self.cookies.jar:
            if c.name == name:
                return c.value
        return None

    def cookie_header(self) -> str:
        jar = self.cookies.jar
        return "; ".join(f"{c.name}={c.value}" for c in jar if c.name.startswith("sp_"))


_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


async def provider_login(browser: Browser, page: httpx.Response, login: str) -> httpx.Response:
    """Fill the provider's login form on ``page`` as ``login`` (password pw-<login>)."""
    match = _ACTION.search(page.text)
    assert match, page.text[:2000]
    action = str(page.url.join(match.group(1)))
    return await browser.post(action, data={"login": login, "password": f"pw-{login}"})


async def sign_in(sp: ServicePoint, login: str, browser: Browser | None = None) -> Browser:
    """The authorization-code flow end to end; the browser ends on the hall with a session."""
    browser = browser or Browser()
    page = await browser.get(base_url(sp) + "/auth/login")
    assert page.status_code == 200 and 'name="login"' in page.text, page.text[:500]
    done = await provider_login(browser, page, login)
    assert done.status_code == 200, done.text[:2000]
    assert str(done.url).rstrip("/") == base_url(sp), done.url
    assert browser.cookie("sp_session"), "no session cookie after sign-in"
    return browser


class CookieAgent(AgentClient):
    """An `AgentClient` whose handshake carries a ``Cookie`` header (as a browser's does)."""

    def __init__(self, url: str, cookie: str, **kw: Any) -> None:
        super().__init__(url, **kw)
        self.cookie = cookie

    async def connect_raw(self, **options: Any) -> None:
        await super().connect_raw(additional_headers={"Cookie": self.cookie}, **options)


def ws_url(sp: ServicePoint) -> str:
    return f"ws://127.0.0.1:{sp.port}/ws"


async def closed(agent: AgentClient, timeout: float = 10.0) -> tuple[int | None, str]:
    assert agent.closed is not None
    return await asyncio.wait_for(asyncio.shield(agent.closed), timeout)
