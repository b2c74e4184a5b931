"""Bad input at sign-in, each with a clear refusal and nothing secret in the logs:
state and nonce mismatches, ID tokens from the wrong issuer or audience, expired or
signed with an unknown key, replayed codes, a provider that is down, a tampered citizen key."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from agents.client import AgentClient
from server.auth.oidc import OidcClient, SignInRefused
from tests.auth.conftest import (
    Browser,
    CookieAgent,
    Provider,
    SignIn,
    base_url,
    free_port,
    provider_login,
    serving,
    sign_in,
    ws_url,
)

REDIRECT = "http://127.0.0.1:9/cb"
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")


@pytest.fixture
async def client(provider: Provider) -> AsyncIterator[OidcClient]:
    client_id, secret = provider.register([REDIRECT], [])
    c = OidcClient(provider.issuer, client_id, secret)
    yield c
    await c.close()


async def authorize(client: OidcClient, login: str, nonce: str, verifier: str) -> str:
    """Sign ``login`` in at the provider and return the authorization code it gives."""
    url = await client.authorization_url(REDIRECT, ["openid", "groups"], "st", nonce, verifier)
    async with Browser() as browser:
        page = await browser.get(url)
        # Follow the provider's own redirects, but not the last one (to our callback).
        browser.follow_redirects = False
        response = await provider_login(browser, page, login)
        while True:
            location = str(response.headers.get("location", ""))
            if location.startswith(REDIRECT):
                return parse_qs(urlsplit(location).query)["code"][0]
            assert response.is_redirect, response.text[:1000]
            response = await browser.get(response.url.join(location))


async def real_id_token(client: OidcClient, nonce: str = "n-1") -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    code = await authorize(client, "sara.lind", nonce, verifier)
    return await client.exchange(code, REDIRECT, verifier)


def craft(key: RSAKey | OctKey, alg: str = "RS256", kid: str = "test-rsa-1", **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "sara.lind", "iat": now, "exp": now + 300, "nonce": "n-1", **claims}
    header = {"alg": alg, "kid": kid}
    return jwt.encode(header, body, key, algorithms=[alg])


async def test_a_real_id_token_passes_and_a_replayed_code_is_refused(client: OidcClient) -> None:
    verifier = secrets.token_urlsafe(48)
    code = await authorize(client, "sara.lind", "n-1", verifier)
    tokens = await client.exchange(code, REDIRECT, verifier)
    claims = await client.validate_id_token(tokens["id_token"], "n-1", tokens["access_token"])
    assert claims["sub"] == "sara.lind" and "sp-staff" in claims["groups"]
    with pytest.raises(SignInRefused, match="invalid_grant"):
        await client.exchange(code, REDIRECT, verifier)


async def test_a_code_without_its_verifier_is_refused(client: OidcClient) -> None:
    code = await authorize(client, "sara.lind", "n-1", secrets.token_urlsafe(48))
    with pytest.raises(SignInRefused, match="invalid_grant"):
        await client.exchange(code, REDIRECT, secrets.token_urlsafe(48))


async def test_a_nonce_mismatch_is_refused(client: OidcClient) -> None:
    tokens = await real_id_token(client, nonce="the-nonce")
    with pytest.raises(SignInRefused, match="nonce mismatch"):
        await client.validate_id_token(tokens["id_token"], "another-nonce", tokens["access_token"])


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "http://127.0.0.1:1", "aud": "CLIENT"}, "issued by another provider"),
        ({"iss": "ISSUER", "aud": "someone-else"}, "meant for another client"),
        ({"iss": "ISSUER", "aud": "CLIENT", "exp": int(time.time()) - 3600}, "expired"),
        ({"iss": "ISSUER", "aud": "CLIENT", "nonce": "not-ours"}, "nonce mismatch"),
        ({"iss": "ISSUER"}, "lacks the claim aud"),
    ],
)
async def test_crafted_id_tokens_are_refused(
    provider: Provider, client: OidcClient, claims: dict[str, Any], reason: str
) -> None:
    fixed = {
        k: {"ISSUER": provider.issuer, "CLIENT": client.client_id}.get(v, v)
        if isinstance(v, str)
        else v
        for k, v in claims.items()
    }
    token = craft(provider.key, **fixed)
    with pytest.raises(SignInRefused, match=reason):
        await client.validate_id_token(token, "n-1")


async def test_a_well_made_crafted_token_passes(provider: Provider, client: OidcClient) -> None:
    # The control for the test above: the provider's own key, right claims.
    token = craft(provider.key, iss=provider.issuer, aud=client.client_id)
    claims = await client.validate_id_token(token, "n-1")
    assert claims["sub"] == "sara.lind"


async def test_unknown_keys_and_algorithms_are_refused(
    provider: Provider, client: OidcClient
) -> None:
    good = {"iss": provider.issuer, "aud": client.client_id}
    stranger = RSAKey.generate_key(2048, parameters={"kid": "not-listed"})
    with pytest.raises(SignInRefused, match="key the provider does not list"):
        await client.validate_id_token(craft(stranger, kid="not-listed", **good), "n-1")
    impostor = RSAKey.generate_key(2048, parameters={"kid": "test-rsa-1"})
    with pytest.raises(SignInRefused, match="signature is not valid"):
        await client.validate_id_token(craft(impostor, **good), "n-1")
    # A shared-secret token (the client secret as HMAC key) never passes.
    secret = OctKey.import_key(b"x" * 32)
    with pytest.raises(SignInRefused, match="not signed as expected"):
        await client.validate_id_token(craft(secret, alg="HS256", **good), "n-1")
    with pytest.raises(SignInRefused, match="not well formed"):
        await client.validate_id_token("not.a.token", "n-1")


async def _callback_url(sp: Any, browser: Browser, login: str) -> str:
    """Start a sign-in in ``browser`` and stop just before the provider's redirect back."""
    page = await browser.get(base_url(sp) + "/auth/login")
    browser.follow_redirects = False
    response = await provider_login(browser, page, login)
    while True:
        location = str(response.headers.get("location", ""))
        if "/auth/callback" in location:
            browser.follow_redirects = True
            return location
        response = await browser.get(response.url.join(location))


async def test_state_bound_to_the_browser_and_used_once(
    signin: SignIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with signin(tmp_path) as sp:
        alice = Browser()
        callback = await _callback_url(sp, alice, "sara.lind")
        # Another browser (no binding cookie, or another one) cannot complete it.
        mallory = Browser()
        await mallory.get(base_url(sp) + "/auth/login")  # a binding cookie of its own
        stolen = await mallory.get(callback)
        assert stolen.status_code == 400 and "state mismatch" in stolen.text
        assert mallory.cookie("sp_session") is None
        # The state was spent by that attempt: the right browser is refused too, and
        # starts again.
        replay = await alice.get(callback)
        assert replay.status_code == 400 and "already completed" in replay.text
        assert alice.cookie("sp_session") is None

        # A completed sign-in's callback, replayed, is refused (state and code single use).
        bob = Browser()
        callback = await _callback_url(sp, bob, "jonas.weber")
        assert (await bob.get(callback)).status_code == 200
        assert bob.cookie("sp_session")
        again = await bob.get(callback)
        assert again.status_code == 400 and "already completed" in again.text
        sessions = await sp.auth.sessions.of_subject("jonas.weber") if sp.auth else []
        assert len(sessions) == 1

        # An unknown state, a missing code, the provider's own refusal, a wrong iss.
        for query, text in (
            ({"state": "made-up", "code": "x"}, "state unknown"),
            ({"state": "made-up"}, "incomplete"),
            ({"error": "access_denied", "state": "s"}, "did not sign you in (access_denied)"),
        ):
            page = await bob.get(base_url(sp) + "/auth/callback", params=query)
            assert page.status_code == 400 and text in page.text
            assert "<h1" in page.text and "Back to the service hall" in page.text
        carol = Browser()
        callback = await _callback_url(sp, carol, "mia.berg")
        forged = re.sub(r"iss=[^&]+", "iss=http%3A%2F%2Fevil.example", callback)
        assert "iss=" in callback and forged != callback
        page = await carol.get(forged)
        assert page.status_code == 400 and "issuer mismatch" in page.text
        for b in (alice, mallory, bob, carol):
            await b.aclose()
    assert not [r for r in caplog.records if JWT.search(r.getMessage())]


async def test_a_provider_that_is_down_gives_a_readable_page(tmp_path: Path) -> None:
    port = free_port()
    dead = f"http://127.0.0.1:{free_port()}"
    section = {"issuer": dead, "client_id": "servicepoint", "client_secret": "s" * 20}
    async with serving(tmp_path, port, {"auth": section}) as sp:
        async with Browser() as browser:
            page = await browser.get(base_url(sp) + "/auth/login")
            assert page.status_code == 503
            assert "Sign-in is not available right now" in page.text
            assert "works as usual" in page.text
            assert "s" * 20 not in page.text and dead not in page.text
            # Everything else goes on.
            assert (await browser.get(base_url(sp) + "/healthz")).status_code == 200
            assert (await browser.get(base_url(sp) + "/")).status_code == 200
            me = (await browser.get(base_url(sp) + "/auth/me")).json()
            assert me == {"signed_in": False, "sign_in": True, "eid": False}
        async with AgentClient(ws_url(sp), name="Visitor") as visitor:
            assert visitor.welcome is not None and visitor.welcome["role"] == "citizen"


async def test_sign_in_not_configured(tmp_path: Path) -> None:
    async with serving(tmp_path, free_port(), {}) as sp, Browser() as browser:
        page = await browser.get(base_url(sp) + "/auth/login")
        assert page.status_code == 404 and "not set up" in page.text
        assert (await browser.get(base_url(sp) + "/auth/me")).json()["sign_in"] is False


async def test_a_forged_session_cookie_is_refused(signin: SignIn, tmp_path: Path) -> None:
    async with signin(tmp_path) as sp:
        agent = CookieAgent(ws_url(sp), "sp_session=" + secrets.token_urlsafe(32), name="x")
        await agent.connect_raw()
        await agent.send({"t": "hello", "v": 4})
        error = await agent.expect("error", ref="hello")
        assert error["code"] == "signed_out"
        assert agent.closed is not None
        code, _ = await agent.closed
        assert code == 4010
        async with httpx.AsyncClient() as http:
            me = await http.get(base_url(sp) + "/auth/me", headers={"Cookie": "sp_session=forged"})
            assert me.json()["signed_in"] is False
            assert "Max-Age=0" in me.headers.get("set-cookie", "")  # the dead cookie is cleared


async def test_a_tampered_citizen_key_gets_a_new_identity(signin: SignIn, tmp_path: Path) -> None:
    async with signin(tmp_path) as sp:
        async with AgentClient(ws_url(sp), name="Citizen") as first:
            assert first.welcome is not None
            key = str(first.welcome["citizen"])
        head, body, sig = key.split(".")
        tampered = ".".join([head, body[:-2] + ("AA" if body[-2:] != "AA" else "BB"), sig])
        async with AgentClient(ws_url(sp), name="Citizen", citizen=tampered) as second:
            error = await second.expect("error", ref="hello")
            assert error["code"] == "bad_citizen_key"
            assert second.welcome is not None and second.welcome["citizen"] != key


async def test_no_token_code_or_secret_in_logs_or_our_urls(
    signin: SignIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with signin(tmp_path) as sp:
        browser = await sign_in(sp, "ada.admin")
        sessions = [browser.cookie("sp_session")]
        await browser.get(base_url(sp) + "/auth/refresh")
        sessions.append(browser.cookie("sp_session"))
        async with CookieAgent(ws_url(sp), browser.cookie_header(), name="x") as agent:
            await agent.send({"t": "session_list"})
            await agent.expect("sessions")
        await browser.get(base_url(sp) + "/auth/logout")
        secret = sp.auth_settings.client_secret
        codes = [parse_qs(urlsplit(u).query)["code"][0] for u in browser.visited if "code=" in u]
        assert codes
        text = "\n".join(
            [r.getMessage() for r in caplog.records]
            + [str(r.args) for r in caplog.records]
            + [r.exc_text or "" for r in caplog.records]
        )
        for value in [secret, *codes, *sessions]:
            assert value and value not in text
        assert not JWT.search(text)
        # URLs: no JWT anywhere, no session token; the code appears only in the
        # provider's redirect to our callback (the protocol's one place for it).
        for url in browser.visited:
            assert not JWT.search(url), url
            assert not any(s and s in url for s in sessions), url
            if "code=" in url:
                assert urlsplit(url).path == "/auth/callback"
        await browser.aclose()
