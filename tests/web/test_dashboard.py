"""The manager's dashboard (clients/web/dashboard.html) in real Chromium.

The server runs in this process (`running_server` on the agents' loop), without an
identity provider: a development manager token (`mint("manager", ...)`) is pasted
into the sign-in field (a `#token=` in the link is ignored; signing in through the
provider with the session cookie is tests/auth/test_signin.py's). Citizens and
staff are `AgentClient`s. Checked: the charts (uPlot canvases) and their tables
render; a ticket taken by a citizen shows in the queue figure at the next update;
a bar and a table row list the case ids; "Pause updates" stops the requests until
"Resume updates" (counted with page.on("request") under Playwright's clock); axe
finds nothing in five languages; the CSV report's totals equal the dashboard's.
No assertion is about time: waits are for events or states.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.client import AgentClient
from server.app import ServicePoint
from tests.server.harness import mint, staff_agent
from tests.web.conftest import AgentLoop, own_server, state, url, wait_state
from tests.web.test_a11y import axe_violations

WAIT_MS = 20_000
LANGS = ["sv", "da", "de", "ja", "en"]
DASHBOARD = "/api/insight/dashboard"


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (list it before `open_page`)."""
    yield from own_server(agents, tmp_path)


def ws(sp: ServicePoint) -> str:
    return f"ws://127.0.0.1:{sp.port}/ws"


_MANAGER: list[str] = []


def manager() -> str:
    """One manager token for the module (a token carries its issue time: mint once)."""
    if not _MANAGER:
        _MANAGER.append(mint("manager", "Mia Berg"))
    return _MANAGER[0]


def paste_token(page: Any, token: str) -> None:
    """The development sign-in: the token into the password field, then Enter."""
    page.wait_for_function("() => window.servicepoint.state().session.loaded")
    page.fill("#signin-token", token)
    page.press("#signin-token", "Enter")


def open_dashboard(open_page: Any, sp: ServicePoint, **kw: Any) -> Any:
    page = open_page("/dashboard.html", base=url(sp), **kw)
    paste_token(page, manager())
    wait_state(page, "s.data")
    return page


async def citizen_with_ticket(sp: ServicePoint, name: str, service: str = "general") -> AgentClient:
    citizen = AgentClient(ws(sp), name=name)
    await citizen.connect()
    await citizen.send({"t": "take_ticket", "service": service, "lang": "en"})
    await citizen.expect("ticket")
    return citizen


def figure(page: Any, service: str, name: str) -> str:
    text: str = page.text_content(f"[data-service={service}] [data-figure={name}]")
    return text.strip()


def test_charts_tables_and_live_queue(sp: ServicePoint, open_page: Any, agents: AgentLoop) -> None:
    page = open_dashboard(open_page, sp)
    # The pasted token is kept for this tab only and sent as a bearer header.
    assert state(page)["auth"] == "token"
    assert page.evaluate("sessionStorage.getItem('servicepoint.dashboard.token')") == manager()
    assert page.is_hidden("#signin") and page.is_visible("#board")
    assert page.is_visible("#dash-signout") and page.is_hidden("#dash-signout-link")

    # Every chart is a uPlot canvas with a name, a summary sentence and a table.
    for chart in ("hourly", "level", "csat"):
        assert page.locator(f"#{chart}-chart canvas").count() >= 1, chart
        assert page.get_attribute(f"#{chart}-chart", "role") == "img"
        assert page.get_attribute(f"#{chart}-chart", "aria-label"), chart
        assert page.text_content(f"#{chart}-summary"), chart
        assert page.locator(f"#{chart}-table").count() == 1
    assert state(page)["charts"] == {"hourly": True, "level": True, "csat": True}
    assert page.locator("#level-table tbody tr").count() == 30
    services = [s["id"] for s in state(page)["data"]["services"]]
    assert page.locator("#today-table tbody tr").count() == len(services)
    assert page.locator("#service-cards .service-card").count() == len(services)
    assert figure(page, "general", "queue_length") == "0"
    assert page.text_content("#hourly-summary") == "No visitors yet today."

    # A citizen takes a ticket: the next update shows it, without a reload.
    citizen = agents.run(citizen_with_ticket(sp, "Ada"))
    try:
        page.wait_for_function(
            """() => document.querySelector('[data-service=general] [data-figure=queue_length]')
                       .textContent.trim() === '1'""",
            timeout=WAIT_MS,
        )
        s = wait_state(page, "s.data.totals.today.volume === 1")
        assert s["data"]["totals"]["queue_length"] == 1
        assert page.get_attribute("#now-summary", "data-queue") == "1"
        assert "1 visitor so far today" in page.text_content("#hourly-summary")

        # The table's row button lists the cases of that hour ...
        hour = s["data"]["hourly"]["volume"]["general"].index(1)
        row = page.locator(f"#hourly-table tbody tr[data-hour='{hour}']")
        assert row.locator("td[data-metric=volume]").text_content() == "1"
        page.locator("details.chart-data").first.evaluate("d => d.open = true")
        row.locator("button").focus()
        page.keyboard.press("Enter")
        s = wait_state(page, "s.cases && s.cases.length === 1")
        assert s["cases"] == ["A-001"]
        assert page.text_content("#cases-table tbody th") == "A-001"
        assert "1 case" in page.text_content("#cases-status")

        # ... and so does a click on its bar (uPlot's cursor picks the nearest hour).
        over = page.locator("#hourly-chart .u-over").bounding_box()
        assert over is not None
        x = over["x"] + over["width"] * (hour + 0.5) / 24
        y = over["y"] + over["height"] * 0.9
        with page.expect_response(lambda r: "/api/insight/cases" in r.url) as reply:
            page.mouse.move(x, y)
            page.mouse.click(x, y)
        assert f"hour={hour}" in reply.value.url and "metric=volume" in reply.value.url
        assert [c["ticket"] for c in reply.value.json()["cases"]] == ["A-001"]
        wait_state(page, "s.cases && s.cases.length === 1")
    finally:
        agents.run(citizen.close())


def test_pause_stops_the_updates_until_resumed(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    requests: list[str] = []

    def setup(page: Any) -> None:
        page.clock.install()
        page.on("request", lambda r: requests.append(r.url) if DASHBOARD in r.url else None)

    page = open_dashboard(open_page, sp, setup=setup)
    # Updates run: the clock moves past one interval and a new request goes out.
    with page.expect_request(lambda r: DASHBOARD in r.url, timeout=WAIT_MS):
        page.clock.run_for(5_500)
    wait_state(page, "s.fetches >= 2")

    page.focus("#dash-pause")
    page.keyboard.press("Enter")
    assert page.text_content("#dash-pause") == "Resume updates"
    page.wait_for_function(
        "() => document.getElementById('dash-live').textContent.startsWith('Updates paused')"
    )
    assert "paused" in page.text_content("#dash-updated").lower()
    before = len(requests)
    fetches = state(page)["fetches"]
    # A minute of the page's time passes: no request while paused.
    page.clock.run_for(60_000)
    assert state(page)["fetches"] == fetches and state(page)["paused"]

    # Resume: one request at once (and it is the first since pausing: requests keep order).
    with page.expect_request(lambda r: DASHBOARD in r.url, timeout=WAIT_MS):
        page.click("#dash-pause")
    assert page.text_content("#dash-pause") == "Pause updates"
    assert len(requests) == before + 1
    wait_state(page, f"s.fetches === {fetches + 1}")
    # And the updates go on.
    with page.expect_request(lambda r: DASHBOARD in r.url, timeout=WAIT_MS):
        page.clock.run_for(5_500)


def test_no_axe_violations_in_five_languages(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    citizen = agents.run(citizen_with_ticket(sp, "Ada"))
    try:
        # The sign-in form first (no token yet).
        page = open_page("/dashboard.html", base=url(sp), lang="de-DE")
        assert page.evaluate("document.documentElement.lang") == "de"
        assert page.is_visible("#signin-token")
        assert axe_violations(page) == [], "sign-in"
        paste_token(page, manager())
        wait_state(page, "s.data && s.data.totals.today.volume === 1")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        for lang in LANGS:
            page.select_option("#dash-lang", lang)
            assert page.evaluate("document.documentElement.lang") == lang
            assert page.text_content("#dash-pause") != "Pause updates" or lang == "en"
            assert axe_violations(page) == [], lang
    finally:
        agents.run(citizen.close())


async def serve_one(sp: ServicePoint, citizen: AgentClient) -> AgentClient:
    staff = staff_agent(sp, "Sara Lind")
    await staff.connect()
    await staff.send({"t": "duty", "status": "available", "desk": "desk-2"})
    await staff.expect("duty", status="available")
    await staff.send({"t": "call_next"})
    await citizen.expect("called", timeout=15)
    await citizen.send({"t": "respond"})
    await staff.expect("call", active=True, timeout=15)
    await staff.send({"t": "close_case", "outcome": "resolved"})
    await citizen.expect("survey", timeout=15)
    return staff


def test_csv_totals_equal_the_dashboard(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    ada = agents.run(citizen_with_ticket(sp, "Ada", "general"))
    bo = agents.run(citizen_with_ticket(sp, "Bo", "registration"))
    staff = agents.run(serve_one(sp, ada))
    try:
        page = open_dashboard(open_page, sp)
        s = wait_state(page, "s.data.totals.today.volume === 2 && s.data.totals.today.served === 1")
        today = s["data"]["totals"]["today"]
        foot = page.locator("#today-table tfoot tr[data-group=total]")
        assert foot.locator("td[data-metric=volume]").text_content() == "2"
        assert foot.locator("td[data-metric=served]").text_content() == "1"

        day = s["data"]["day"]
        page.fill("#report-from", day)
        page.fill("#report-to", day)
        page.select_option("#report-by", "service")
        with page.expect_download() as download:
            page.click("#report-submit")
        assert download.value.suggested_filename.endswith(".csv")
        text = Path(download.value.path()).read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows[-1]["group"] == "total"
        total = rows[-1]
        for key in ("volume", "called", "served", "no_show", "left", "within_target", "csat_n"):
            assert int(total[key]) == today[key], key
        by_service = {r["group"]: r for r in rows[:-1]}
        for service in s["data"]["services"]:
            assert int(by_service[service["id"]]["volume"]) == service["today"]["volume"]
        assert "downloaded" in page.text_content("#report-status")
    finally:
        for client in (ada, bo, staff):
            agents.run(client.close())


def test_sign_in_errors(sp: ServicePoint, open_page: Any) -> None:
    refused = ("status of 401", "status of 403")  # Chromium logs the refused requests
    # A token in the link is no sign-in: the page neither uses nor keeps it.
    page = open_page(f"/dashboard.html#token={manager()}", base=url(sp), allow=refused)
    s = wait_state(page, "s.session.loaded")
    assert s["signedIn"] is False and s["auth"] is None and s["fetches"] == 0
    assert s["session"] == {
        "loaded": True,
        "signedIn": False,
        "role": None,
        "name": None,
        "signIn": False,
        "eid": False,
    }
    assert page.is_visible("#signin") and page.is_hidden("#board")
    assert page.evaluate("sessionStorage.getItem('servicepoint.dashboard.token')") is None
    # No identity provider here: no "Sign in" link, only the development form.
    assert page.is_hidden("#signin-link") and page.is_visible("#signin-token")

    paste_token(page, mint("staff", "Sara Lind"))
    page.wait_for_function(
        "() => document.getElementById('signin-error').textContent.length > 0", timeout=WAIT_MS
    )
    assert "manager or administrator" in page.text_content("#signin-error")
    assert page.is_visible("#signin") and page.is_hidden("#board")
    assert page.evaluate("sessionStorage.getItem('servicepoint.dashboard.token')") is None

    page.fill("#signin-token", "not-a-token")
    page.click("#signin-submit")
    page.wait_for_function(
        "() => document.getElementById('signin-error').textContent.includes('not valid')",
        timeout=WAIT_MS,
    )
    page.fill("#signin-token", manager())
    page.click("#signin-submit")
    wait_state(page, "s.data")
    assert page.is_visible("#board") and page.text_content("#signin-error") == ""


def test_the_page_keeps_to_the_policy() -> None:
    """Only the import map is inline (the server allows it by its hash); no inline handlers."""
    from tests.web.conftest import WEB, inline_script_hashes

    html = (WEB / "dashboard.html").read_text(encoding="utf-8")
    assert len(inline_script_hashes(html)) == 1
    lowered = html.lower()
    assert "javascript:" not in lowered
    for handler in ("onclick=", "onload=", "onerror=", "onsubmit=", "onchange=", "oninput="):
        assert handler not in lowered, handler
    # Signing in goes through /auth/login and back here; no page reads a token from its link.
    assert 'href="/auth/login?next=/dashboard.html"' in html
    for path in (WEB / "src").rglob("*.js"):
        source = path.read_text(encoding="utf-8")
        assert "#token=" not in source and "takeTokenFromLink" not in source, path
