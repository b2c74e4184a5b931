"""Staff sign-in end to end with a real OpenID Connect provider (oidc-provider on loopback):
the code flow with PKCE, the session cookie on the WebSocket and API routes, refresh,
logout, and what a person in no mapped group gets."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from server.app import ServicePoint
from tests.auth.conftest import (
    Browser,
    CookieAgent,
    Provider,
    SignIn,
    base_url,
    closed,
    provider_login,
    sign_in,
    ws_url,
)
from tests.auth.test_signin_web import with_chromium
from tests.web.test_a11y import axe_violations


async def test_code_flow_with_pkce_gives_a_staff_session(
    signin: SignIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with signin(tmp_path) as sp:
        browser = await sign_in(sp, "sara.lind")
        # The authorization request used PKCE (S256), a state and a nonce.
        auth = next(u for u in browser.visited if "/auth?" in u and "code_challenge" in u)
        params = parse_qs(urlsplit(auth).query)
        assert params["code_challenge_method"] == ["S256"]
        assert params["state"] and params["nonce"] and params["response_type"] == ["code"]
        assert "code_verifier" not in params
        cookie = browser.cookies.jar
        session = next(c for c in cookie if c.name == "sp_session")
        assert session.has_nonstandard_attr("HttpOnly")
        assert (session.get_nonstandard_attr("SameSite") or "").lower() == "strict"
        assert not session.secure  # plain http here; https gets Secure and __Host-

        me = (await browser.get(base_url(sp) + "/auth/me")).json()
        assert me["signed_in"] and me["role"] == "staff" and me["name"] == "Sara Lind"
        assert 0 < me["expires_in"] <= 900

        async with CookieAgent(ws_url(sp), browser.cookie_header(), name="x") as agent:
            assert agent.welcome is not None
            assert agent.welcome["role"] == "staff" and agent.welcome["name"] == "Sara Lind"
            assert "citizen" not in agent.welcome
            person = sp.people.by_subject("id:sara.lind")
            assert person is not None and person.role == "staff"
            # The roster entry from the groups (sp-desk-general, sp-lang-da).
            roster = sp.auth.roster("id:sara.lind") if sp.auth else None
            assert roster is not None
            assert roster.services == ("general", "registration")
            assert roster.desks == ("desk-1", "desk-2") and roster.languages == ("da", "en")
            await agent.send({"t": "session_list"})
            listed = await agent.expect("sessions")
            assert listed["subject"] == "sara.lind" and len(listed["sessions"]) == 1
            assert listed["sessions"][0]["current"] is True

        entries = await sp.audit.search(action="auth.sign_in") if sp.audit else []
        assert [(e["actor"], e["role"]) for e in entries] == [("id:sara.lind", "staff")]
        await browser.aclose()


async def test_a_person_in_no_mapped_group_is_a_citizen(signin: SignIn, tmp_path: Path) -> None:
    async with signin(tmp_path) as sp:
        browser = await sign_in(sp, "nils.nogroup")
        me = (await browser.get(base_url(sp) + "/auth/me")).json()
        assert me["signed_in"] and me["role"] == "citizen"
        async with CookieAgent(ws_url(sp), browser.cookie_header(), name="Nils") as agent:
            assert agent.welcome is not None and agent.welcome["role"] == "citizen"
            assert agent.welcome.get("citizen")  # anonymous as any citizen
            await agent.send({"t": "session_list"})
            error = await agent.expect("error", ref="session_list")
            assert error["code"] == "forbidden"
        await browser.aclose()


@pytest.mark.parametrize(
    ("login", "role"),
    [
        ("ada.admin", "admin"),
        ("hanne.host", "host"),
        ("mia.berg", "manager"),
        ("cai.captions", "captioner"),
    ],
)
async def test_groups_map_to_roles(signin: SignIn, tmp_path: Path, login: str, role: str) -> None:
    async with signin(tmp_path) as sp:
        browser = await sign_in(sp, login)
        async with CookieAgent(ws_url(sp), browser.cookie_header(), name="x") as agent:
            assert agent.welcome is not None and agent.welcome["role"] == role
        await browser.aclose()


async def test_refresh_rotates_the_cookie_and_logout_revokes_it(
    signin: SignIn, tmp_path: Path
) -> None:
    async with signin(tmp_path) as sp:
        browser = await sign_in(sp, "jonas.weber")
        first = browser.cookie("sp_session")
        refreshed = await browser.get(base_url(sp) + "/auth/refresh")
        assert refreshed.status_code == 200 and refreshed.json()["role"] == "staff"
        second = browser.cookie("sp_session")
        assert second and second != first
        # The old cookie no longer works; the new one does.
        stale = Browser()
        stale.cookies.set("sp_session", first or "", domain="127.0.0.1")
        assert (await stale.get(base_url(sp) + "/auth/me")).json()["signed_in"] is False
        assert (await browser.get(base_url(sp) + "/auth/me")).json()["signed_in"] is True

        async with CookieAgent(ws_url(sp), browser.cookie_header(), name="x") as agent:
            kept = browser.cookie_header()
            out = await browser.get(base_url(sp) + "/auth/logout", follow_redirects=False)
            assert out.status_code == 302
            # RP-initiated logout at the provider: no token in the URL, only the client.
            location = out.headers["location"]
            assert location.startswith(sp.auth_settings.issuer + "/session/end?")
            query = parse_qs(urlsplit(location).query)
            assert set(query) == {"client_id", "post_logout_redirect_uri"}
            assert query["post_logout_redirect_uri"] == [base_url(sp) + "/"]
            assert browser.cookie("sp_session") is None
            code, _ = await closed(agent)
            assert code == 4010
        # The session is gone: its cookie is refused at the handshake.
        refused = CookieAgent(ws_url(sp), kept, name="x")
        await refused.connect_raw()
        await refused.send({"t": "hello", "v": 4})
        await refused.expect("error", code="signed_out")
        code, _ = await closed(refused)
        assert code == 4010
        entries = await sp.audit.search() if sp.audit else []
        actions = [e["action"] for e in entries]
        assert actions.count("auth.sign_in") == 1 and "auth.refresh" in actions
        assert "auth.sign_out" in actions
        await stale.aclose()
        await browser.aclose()


async def test_the_session_cookie_serves_api_routes(signin: SignIn, tmp_path: Path) -> None:
    async with signin(tmp_path) as sp:
        manager = await sign_in(sp, "mia.berg")
        staff = await sign_in(sp, "sara.lind")
        assert sp.routes is not None
        route = next(p for p, r in sp.routes.api.items() if "manager" in r.roles)
        assert (await manager.get(base_url(sp) + route)).status_code == 200
        assert (await staff.get(base_url(sp) + route)).status_code == 403
        assert (await Browser().get(base_url(sp) + route)).status_code == 401
        await manager.aclose()
        await staff.aclose()


async def test_a_second_device_is_allowed_and_listed(signin: SignIn, tmp_path: Path) -> None:
    async with signin(tmp_path) as sp:
        phone = await sign_in(sp, "ada.admin")
        laptop = await sign_in(sp, "ada.admin")
        async with CookieAgent(ws_url(sp), laptop.cookie_header(), name="x") as agent:
            await agent.send({"t": "session_list"})
            listed = await agent.expect("sessions")
            assert len(listed["sessions"]) == 2
            assert [s["current"] for s in listed["sessions"]] == [False, True]
            assert all(
                set(s) == {"id", "role", "created", "expires", "device", "current"}
                for s in listed["sessions"]
            )
        assert (await phone.get(base_url(sp) + "/auth/me")).json()["signed_in"]
        await phone.aclose()
        await laptop.aclose()


async def test_sign_in_returns_to_a_local_page_only(signin: SignIn, tmp_path: Path) -> None:
    async with signin(tmp_path) as sp:
        for target, lands in (
            ("/dashboard.html", "/dashboard.html"),
            ("//evil.example/", "/"),
            ("https://evil.example/", "/"),
        ):
            browser = Browser()
            page = await browser.get(base_url(sp) + "/auth/login", params={"next": target})
            done = await provider_login(browser, page, "mia.berg")
            assert urlsplit(str(done.url)).path == lands
            assert urlsplit(str(done.url)).netloc == f"127.0.0.1:{sp.port}"
            await browser.aclose()


def test_the_provider_requires_pkce(provider: Provider) -> None:
    import httpx

    client_id, _secret = provider.register(["http://127.0.0.1:1/auth/callback"], [])
    resp = httpx.get(
        provider.issuer + "/auth",
        params={
            "client_id": client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": "http://127.0.0.1:1/auth/callback",
            "state": "s",
            "nonce": "n",
        },
        follow_redirects=False,
    )
    location = resp.headers.get("location", "")
    assert "error=invalid_request" in location and "PKCE" in location


async def test_a_manager_signs_in_and_the_dashboard_uses_the_cookie(
    signin: SignIn, tmp_path: Path
) -> None:
    """Real Chromium: the dashboard's "Sign in" link, the provider's login form, back on the
    dashboard with the board drawn from cookie requests (no Authorization header, no token
    anywhere); the Q&A page connects as the same manager by the cookie; signing out ends it.
    Then staff sign in from the Q&A page and come back to the route they were on."""
    async with signin(tmp_path) as sp:
        # The browser blocks in threads of its own while this loop serves the server.
        await asyncio.to_thread(with_chromium, lambda chromium: dashboard_scenario(chromium, sp))
        entries = await sp.audit.search(action="auth.sign_in") if sp.audit else []
        signed_in = sorted((e["actor"], e["role"]) for e in entries)
        assert signed_in == [("id:mia.berg", "manager"), ("id:sara.lind", "staff")]


def dashboard_scenario(chromium: Any, sp: ServicePoint) -> None:
    base, wait = base_url(sp), 20_000
    ctx = chromium.new_context(locale="en-US")
    errors: list[str] = []
    api: list[dict[str, str]] = []
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Our pages' console errors (the provider's login page has its own, e.g. its favicon).
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and ours(m) else None)
    page.on("request", lambda r: api.append(r.headers) if "/api/" in r.url else None)
    state = "window.servicepoint.state()"

    def ours(message: Any) -> bool:
        return str(message.location.get("url", "")).startswith(base + "/")

    page.goto(base + "/dashboard.html")
    page.wait_for_function(f"() => window.servicepoint && {state}.session.loaded", timeout=wait)
    assert page.evaluate(state)["auth"] is None and page.is_visible("#signin-token")
    assert page.get_attribute("#signin-link", "href") == "/auth/login?next=/dashboard.html"
    assert axe_violations(page) == [], "sign-in with the link"

    page.click("#signin-link")
    page.wait_for_selector("#login", timeout=wait)
    page.fill("#login", "mia.berg")
    page.fill("#password", "pw-mia.berg")
    page.click("#login-submit")
    page.wait_for_url(base + "/dashboard.html", timeout=wait)
    page.wait_for_function(
        f"() => window.servicepoint && {state}.auth === 'session' && {state}.data", timeout=wait
    )
    s = page.evaluate(state)
    assert s["session"]["role"] == "manager" and s["session"]["name"] == "Mia Berg"
    assert page.is_hidden("#signin") and page.is_visible("#board")
    assert page.text_content("#dash-who") == "Signed in as Mia Berg (Manager)"
    assert page.is_visible("#dash-signout-link") and page.is_hidden("#dash-signout")
    assert axe_violations(page) == [], "signed in"
    assert api and all("authorization" not in headers for headers in api)
    # (a poll in flight just then: the next one comes within its interval)
    with page.expect_request(lambda r: "/api/insight/dashboard" in r.url, timeout=wait) as request:
        page.evaluate("window.servicepoint.refresh()")
    sent = request.value.all_headers()
    assert "sp_session=" in sent.get("cookie", "") and "authorization" not in sent
    assert page.evaluate("sessionStorage.getItem('servicepoint.dashboard.token')") is None
    assert "token" not in page.url

    # The Q&A page: the WebSocket's handshake carries the cookie, its hello no token.
    qa = ctx.new_page()
    qa.on("pageerror", lambda e: errors.append(str(e)))
    qa.goto(base + "/qa.html")
    qa.wait_for_function(f"() => window.servicepoint && {state}.connected", timeout=wait)
    s = qa.evaluate(state)
    assert s["role"] == "manager" and s["auth"] == "session"
    assert qa.text_content("#qa-who") == "Signed in as Mia Berg (Manager)"
    assert qa.is_visible("#qa-signout-link") and qa.is_hidden("#qa-signin")
    assert axe_violations(qa) == [], "Q&A signed in"
    qa.close()

    # Sign out (the provider asks to confirm), then the dashboard offers the sign-in again.
    page.click("#dash-signout-link")
    page.wait_for_selector("button[value=yes]", timeout=wait)
    page.click("button[value=yes]")
    page.wait_for_url(base + "/", timeout=wait)
    page.goto(base + "/dashboard.html")
    page.wait_for_function(f"() => window.servicepoint && {state}.session.loaded", timeout=wait)
    s = page.evaluate(state)
    assert s["auth"] is None and s["session"]["signedIn"] is False
    assert page.is_visible("#signin-link") and page.is_hidden("#board")
    assert "sp_session" not in {c["name"] for c in ctx.cookies()}
    ctx.close()

    # Staff sign-in from the Q&A page comes back to it, at the route the fragment named.
    ctx = chromium.new_context(locale="en-US")
    qa = ctx.new_page()
    qa.on("pageerror", lambda e: errors.append(str(e)))
    qa.goto(base + "/qa.html#/queue")
    qa.wait_for_function(f"() => window.servicepoint && {state}.connected", timeout=wait)
    assert qa.evaluate(state)["role"] == "citizen" and qa.is_visible("#qa-signin-link")
    assert qa.get_attribute("#qa-signin-link", "href") == "/auth/login?next=/qa.html"
    qa.click("#qa-signin-link")
    qa.wait_for_selector("#login", timeout=wait)
    qa.fill("#login", "sara.lind")
    qa.fill("#password", "pw-sara.lind")
    qa.click("#login-submit")
    qa.wait_for_url(base + "/qa.html#/queue", timeout=wait)
    qa.wait_for_function(
        f"() => window.servicepoint && {state}.connected && {state}.role === 'staff'", timeout=wait
    )
    s = qa.evaluate(state)
    assert s["auth"] == "session" and s["view"] == "queue"
    assert qa.text_content("#qa-who") == "Signed in as Sara Lind (Staff)"
    ctx.close()
    assert errors == []
