"""The pieces without a provider: the session store (with a scripted clock), the group
mapping, the settings from the environment, cookies, and the log redaction."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from server.auth import logs
from server.auth.mapping import map_claims, safe_subject
from server.auth.service import safe_next
from server.auth.sessions import Roster, SessionStore, token_hash
from server.auth.settings import AuthSettings, RosterGrant
from server.auth.web import parse_cookies, session_cookie
from server.config import load_section
from server.store import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_sessions_expire_rotate_and_stop_at_their_limit() -> None:
    clock = Clock()
    store = SessionStore(MemoryStore().keyspace("auth"), ttl_s=900, max_s=2000, clock=clock)
    token, session = await store.create("sara.lind", "staff", "Sara Lind", Roster(("general",)))
    assert await store.lookup(token) == session
    # The store holds the token's hash, never the token.
    keys = await store.ks.scan("*")
    assert f"t:{token_hash(token)}" in keys and not any(token in k for k in keys)
    clock.now += 800
    rotated = await store.rotate(token)
    assert rotated is not None
    new_token, renewed = rotated
    assert renewed.sid == session.sid and renewed.expires == clock.now + 900
    assert await store.lookup(token) is None and await store.lookup(new_token) == renewed
    clock.now += 800
    newer_token, newest = (await store.rotate(new_token)) or ("", None)
    assert newest is not None and newest.expires == session.until  # capped at max_s
    clock.now = session.until + 1
    assert await store.lookup(newer_token) is None  # expired, whatever the store's TTL says
    assert await store.rotate(newer_token) is None


async def test_sessions_listed_and_revoked_per_subject() -> None:
    store = SessionStore(MemoryStore().keyspace("auth"), ttl_s=900, max_s=3600)
    a, first = await store.create("ada", "admin", "Ada", Roster(), "Chrome on Linux")
    b, second = await store.create("ada", "admin", "Ada", Roster(), "Firefox on Android")
    await store.create("bo", "staff", "Bo", Roster())
    listed = await store.of_subject("ada")
    assert [s.sid for s in listed] == [first.sid, second.sid]
    assert listed[0].public(second.sid) == {
        "id": first.sid,
        "role": "admin",
        "created": first.created,
        "expires": first.expires,
        "device": "Chrome on Linux",
        "current": False,
    }
    assert await store.revoke(first.sid) == first
    assert await store.lookup(a) is None and await store.lookup(b) is not None
    ended = await store.revoke_subject("ada", 60)
    assert [s.sid for s in ended] == [second.sid]
    assert await store.of_subject("ada") == [] and len(await store.of_subject("bo")) == 1
    assert await store.revoked_since("ada") is not None
    assert await store.revoked_since("bo") is None


async def test_a_sign_in_record_is_taken_once() -> None:
    store = SessionStore(MemoryStore().keyspace("auth"), ttl_s=900, max_s=3600)
    await store.begin_login("state-1", {"nonce": "n"}, 60)
    assert await store.take_login("state-1") == {"nonce": "n"}
    assert await store.take_login("state-1") is None
    assert await store.take_login("") is None and await store.take_login("x" * 300) is None


def test_groups_map_to_the_strongest_role_and_a_merged_roster() -> None:
    settings = AuthSettings(
        issuer="https://idp.example",
        client_id="sp",
        groups_claim="realm_access.roles",
        role_map={"desk": "staff", "hosts": "host", "admins": "admin"},
        roster_map={
            "desk": RosterGrant(services=("general",), desks=("desk-1",)),
            "lang-de": RosterGrant(languages=("de", "en")),
            "permits": RosterGrant(services=("permits", "general")),
        },
    )
    claims = {
        "sub": "u-1",
        "name": "Jo",
        "realm_access": {"roles": ["desk", "hosts", "lang-de", "permits", 7]},
    }
    person = map_claims(claims, settings)
    assert person is not None and person.role == "host" and person.name == "Jo"
    assert person.roster == Roster(("general", "permits"), ("de", "en"), ("desk-1",))
    nobody = map_claims({"sub": "u-2", "realm_access": {"roles": ["other"]}}, settings)
    assert nobody is not None and nobody.role == "citizen" and nobody.name == "u-2"
    assert map_claims({"name": "no subject"}, settings) is None
    assert safe_subject("sara.lind") == "sara.lind"
    odd = safe_subject("CN=Sara Lind,OU=Staff")
    assert odd is not None and odd.startswith("oidc.")
    assert odd == safe_subject("CN=Sara Lind,OU=Staff")


def test_settings_from_the_environment() -> None:
    env = {
        "SERVICEPOINT_AUTH_ISSUER": "https://idp.example/realms/x",
        "SERVICEPOINT_AUTH_CLIENT_ID": "servicepoint",
        "SERVICEPOINT_AUTH_ROLE_MAP": '{"sp-staff": "staff"}',
        "SERVICEPOINT_AUTH_ROSTER_MAP": '{"sp-staff": {"services": ["general"]}}',
        "SERVICEPOINT_AUTH_SESSION_TTL_S": "600",
    }
    settings = load_section(AuthSettings, env=env)
    assert settings.enabled and settings.session_ttl_s == 600
    assert settings.role_map == {"sp-staff": "staff"}
    assert settings.roster_map["sp-staff"].services == ("general",)
    assert settings.scope_list()[0] == "openid"
    assert not load_section(AuthSettings, env={}).enabled
    with pytest.raises(ValidationError, match="cannot be granted"):
        load_section(AuthSettings, env={"SERVICEPOINT_AUTH_ROLE_MAP": '{"g": "bot"}'})
    with pytest.raises(ValidationError):
        load_section(AuthSettings, env={"SERVICEPOINT_AUTH_SESSION_TTL_S": "1"})


def test_cookies_and_return_paths() -> None:
    cookie = session_cookie("tok", 900, secure=True)
    assert cookie.startswith("__Host-sp_session=tok;")
    assert all(part in cookie for part in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"))
    assert "Secure" not in session_cookie("tok", 900, secure=False)
    assert parse_cookies('a=1; sp_session=abc; bad; q="x"') == {
        "a": "1",
        "sp_session": "abc",
        "q": "x",
    }
    assert parse_cookies(None) == {} and parse_cookies("x" * 9000) == {}
    assert safe_next("/qa.html") == "/qa.html"
    for bad in ("//evil.example", "https://evil.example", "/\\evil", "/a?b=c", None, ""):
        assert safe_next(bad) == "/"


def test_library_debug_logs_lose_their_secrets(caplog: pytest.LogCaptureFixture) -> None:
    logs.install()
    caplog.set_level(logging.DEBUG)
    server = logging.getLogger("websockets.server")
    server.debug("< %s %s %s", "GET", "/auth/callback?code=SECRETCODE&state=S", "HTTP/1.1")
    server.debug("< %s: %s", "Cookie", "sp_session=SECRETCOOKIE")
    server.debug("> %s: %s", "Set-Cookie", "sp_session=SECRETCOOKIE; HttpOnly")
    server.debug("< %s: %s", "Host", "127.0.0.1")
    logging.getLogger("httpcore.http11").debug(
        "receive_response_headers.complete return_value=(b'HTTP/1.1', 303, b'See Other', "
        "[(b'Location', b'http://x/cb?code=SECRETCODE'), (b'Content-Length', b'0')])"
    )
    logging.getLogger("httpx").info(
        'HTTP Request: %s %s "%s %d %s"',
        "GET",
        "http://x/cb?code=SECRETCODE",
        "HTTP/1.1",
        302,
        "Found",
    )
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "SECRET" not in text
    assert "GET /auth/callback?[redacted]" in text and "Host: 127.0.0.1" in text
    assert "Content-Length', b'0'" in text
