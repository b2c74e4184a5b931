"""Real Chromium signs in as staff through the test provider, lands in the hall as staff
with the desks of her roster, goes on duty and off, signs out (also at the provider), and
is refused afterwards with the old cookie.

The server runs as ``python -m server run`` with the sign-in settings in its environment
(``SERVICEPOINT_AUTH_*``, the group map as JSON), as an operator would configure it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.auth.conftest import ROLE_MAP, ROSTER_MAP, Provider, free_port
from tests.web.conftest import BASE_ARGS, CHROMIUM, WEB, Server, ServerProcess

WAIT_MS = 20_000


@pytest.fixture
def hall_with_signin(provider: Provider, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client_id, secret = provider.register([base + "/auth/callback"], [base + "/"])
    proc = ServerProcess(tmp_path, port)
    proc.env.update(
        {
            "SERVICEPOINT_AUTH_ISSUER": provider.issuer,
            "SERVICEPOINT_AUTH_CLIENT_ID": client_id,
            "SERVICEPOINT_AUTH_CLIENT_SECRET": secret,
            "SERVICEPOINT_AUTH_ROLE_MAP": json.dumps(ROLE_MAP),
            "SERVICEPOINT_AUTH_ROSTER_MAP": json.dumps(ROSTER_MAP),
        }
    )
    try:
        yield proc.start()
    finally:
        proc.stop()
        log = proc.log()
        assert secret not in log and "sp_session=" not in log


def with_chromium(scenario: Callable[[Any], None]) -> None:
    """Run ``scenario(browser)`` with Debian's Chromium, in a thread of its own: Playwright's
    sync API refuses to start where another instance (tests/web's) is running."""
    import playwright.sync_api as sync_api

    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    assert (WEB / "node_modules" / "three").is_dir(), "run `npm ci` in clients/web"
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM,
                    args=[*BASE_ARGS, "--disable-3d-apis", "--disable-webgl"],
                )
                try:
                    scenario(browser)
                finally:
                    browser.close()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="chromium")
    thread.start()
    thread.join(timeout=180)
    assert not thread.is_alive(), "the browser scenario did not finish in 180 s"
    if failure:
        raise failure[0]


def signin_state(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("window.servicepoint.state()")
    return result


def test_staff_signs_in_works_signs_out_and_is_refused(
    hall_with_signin: Server, provider: Provider
) -> None:
    with_chromium(lambda browser: scenario(browser, hall_with_signin.url, provider.issuer))


def scenario(chromium: Any, url: str, issuer: str) -> None:
    ctx = chromium.new_context(locale="en-US")
    errors: list[str] = []
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/")
    page.wait_for_function("() => window.servicepoint?.state().signin?.loaded", timeout=WAIT_MS)
    assert page.is_visible("#signin-link") and not page.is_visible("#signout-link")

    # Sign in at the provider with its login form.
    page.click("#signin-link")
    page.wait_for_selector("#login", timeout=WAIT_MS)
    assert page.url.startswith(issuer + "/interaction/")
    page.fill("#login", "sara.lind")
    page.fill("#password", "pw-sara.lind")
    page.click("#login-submit")
    page.wait_for_url(url + "/", timeout=WAIT_MS)
    page.wait_for_function("() => window.servicepoint?.state().signin?.signedIn", timeout=WAIT_MS)
    assert "Signed in as Sara Lind (Staff)" in page.inner_text("#signin-status")
    assert page.is_visible("#signout-link") and not page.is_visible("#signin-link")
    assert not page.is_visible("#dev-token")
    cookies = {c["name"]: c for c in ctx.cookies()}
    session = cookies["sp_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("sp_session") < 0  # not readable by scripts
    assert "token" not in page.url and session["value"] not in page.url

    # Into the hall, as staff.
    page.fill("#join-name", "ignored")
    page.click("#join-submit")
    page.wait_for_function("() => window.servicepoint.state().connected", timeout=WAIT_MS)
    state = signin_state(page)
    assert state["role"] == "staff"
    assert state["signin"]["role"] == "staff"

    # The staff console offers the desks of her groups' roster (sp-desk-general: desks 1
    # and 2 of the hall's four), and she goes on duty at one of them.
    page.wait_for_function(
        "() => document.querySelectorAll('#duty-desk option').length === 2", timeout=WAIT_MS
    )
    offered = page.eval_on_selector_all("#duty-desk option", "os => os.map(o => o.value)")
    assert offered == ["desk-1", "desk-2"]
    page.select_option("#duty-desk", "desk-2")
    page.check("input[name=duty-status][value=available]")
    page.click("#duty-submit")
    page.wait_for_function(
        "() => window.servicepoint.state().staff?.duty?.desk === 'desk-2'",
        timeout=WAIT_MS,
    )
    assert signin_state(page)["staff"]["duty"]["status"] == "available"
    page.check("input[name=duty-status][value=off]")
    page.click("#duty-submit")
    page.wait_for_function(
        "() => window.servicepoint.state().staff?.duty?.status === 'off'",
        timeout=WAIT_MS,
    )

    # Sign out: the session ends, the provider asks to confirm, and the browser comes back.
    page.click("#signout-link")
    page.wait_for_selector("button[value=yes]", timeout=WAIT_MS)
    page.click("button[value=yes]")
    page.wait_for_url(url + "/", timeout=WAIT_MS)
    page.wait_for_function("() => window.servicepoint?.state().signin?.loaded", timeout=WAIT_MS)
    assert signin_state(page)["signin"]["signedIn"] is False
    assert page.is_visible("#signin-link")
    assert "sp_session" not in {c["name"] for c in ctx.cookies()}

    # The old cookie is refused: the hall's connection is closed with 4010.
    ctx.add_cookies(
        [
            {
                k: session[k]
                for k in ("name", "value", "domain", "path", "httpOnly", "sameSite", "secure")
            }
        ]
    )
    page.fill("#join-name", "Sara again")
    page.click("#join-submit")
    page.wait_for_function("() => window.servicepoint.state().state === 'closed'", timeout=WAIT_MS)
    assert "Your sign-in has ended" in page.inner_text("#join-error")
    assert signin_state(page)["role"] != "staff"
    # The page asked again, and the server cleared the dead cookie.
    for _ in range(100):
        if "sp_session" not in {c["name"] for c in ctx.cookies()}:
            break
        page.wait_for_timeout(100)
    assert "sp_session" not in {c["name"] for c in ctx.cookies()}
    assert errors == []
    ctx.close()
