"""Accessibility: axe-core finds no WCAG 2.1 A/AA violations, before and after joining,
and with every panel of the live service at desks showing (in two languages).

axe-core comes from clients/web/node_modules (installed by `npm ci`), which the
server serves: it is injected as a same-origin <script src>, so it also runs
under the page's Content-Security-Policy (no inline script). No network access
is needed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import WEB, Server, join

AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/node_modules/axe-core/axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        assert AXE.is_file(), "axe-core is missing: run `npm ci` in clients/web"
        page.add_script_tag(url=AXE_URL)
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, { runOnly: { type: 'tag', values: tags } })", TAGS
    )
    return [
        {
            "id": v["id"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "summary": [n.get("failureSummary", "") for n in v["nodes"]][:2],
        }
        for v in result["violations"]
    ]


@pytest.mark.parametrize("lang", ["sv-SE", "da-DK", "de-DE", "ja-JP", "en-US"])
def test_no_axe_violations_before_and_after_joining(open_page: Any, lang: str) -> None:
    page = open_page(lang=lang)
    assert axe_violations(page) == []
    join(page, "Axel")
    page.wait_for_function(
        "() => document.querySelector('#chat-lines').textContent.length > 0", timeout=15_000
    )
    assert axe_violations(page) == []


def test_no_axe_violations_with_the_map_fallback(
    open_page: Any, browser_without_webgl: Any
) -> None:
    page = open_page(on=browser_without_webgl)
    join(page, "Ada")
    assert axe_violations(page) == []


def test_keyboard_alone_reaches_every_control(open_page: Any) -> None:
    """Tab walks through the join form in order, with a visible focus indicator."""
    page = open_page()
    seen: list[str] = []
    for _ in range(20):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => { const el = document.activeElement;
                       const s = getComputedStyle(el);
                       const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
                       return { id: el.id || el.name || el.tagName, outline: ring }; }"""
        )
        assert info["outline"], f"{info['id']} has no visible focus outline"
        seen.append(info["id"])
        if info["id"] == "join-submit":
            break
    for wanted in [
        "view",
        "lang-select",
        "join-name",
        "avatar",
        "join-color",
        "join-lang",
        "join-token",
        "join-submit",
    ]:
        assert wanted in seen, f"{wanted} not reached by Tab: {seen}"


def _wait(page: Any, condition: str) -> None:
    page.wait_for_function(
        f"() => {{ const s = window.servicepoint.state(); return Boolean({condition}); }}",
        timeout=20_000,
    )


@pytest.mark.parametrize(
    ("lang", "staff_name"),
    # The ticket is in the page's language; Jonas Weber is the one who speaks German.
    [("en-US", "Sara Lind"), ("de-DE", "Jonas Weber")],
)
def test_no_axe_violations_in_the_desk_panels(
    hall: Server, open_page: Any, lang: str, staff_name: str
) -> None:
    """Kiosk, queue display, call notification, in-call bar and staff console."""
    citizen = open_page(base=hall.url, lang=lang)
    join(citizen, "Axel")
    citizen.click("#places button[data-place=desk-2]")
    _wait(citizen, "s.kiosk === 'desk-2'")
    assert axe_violations(citizen) == [], "kiosk"

    staff = open_page(f"/?token={hall.token('staff', staff_name)}", base=hall.url, lang=lang)
    join(staff, staff_name)
    assert axe_violations(staff) == [], "staff console, off duty"

    citizen.check("#service-choices input[value=general]")
    citizen.click("#service-take")
    _wait(citizen, "s.ticket && s.ticket.status === 'waiting'")
    assert axe_violations(citizen) == [], "queue display"

    staff.select_option("#duty-desk", "desk-2")
    staff.click("#duty-submit")
    staff.wait_for_selector("#queue-view [data-ticket='A-001']", timeout=20_000)
    assert axe_violations(staff) == [], "staff console with a queue"

    staff.click("#call-next")
    citizen.wait_for_selector("#called-panel", state="visible", timeout=20_000)
    _wait(citizen, "document.querySelector('#called-text').textContent")
    assert axe_violations(citizen) == [], "call notification"

    citizen.click("#called-coming")
    _wait(citizen, "s.call && s.voice.mic")  # no microphone in this browser: text fallback
    citizen.fill("#call-input", "Hallo")
    citizen.press("#call-input", "Enter")
    citizen.wait_for_selector("#call-lines .chat-line", timeout=20_000)
    assert axe_violations(citizen) == [], "in-call bar"
    _wait(staff, "s.staff.case && s.staff.case.status === 'serving'")
    staff.wait_for_selector("#call-lines .chat-line", timeout=20_000)
    assert axe_violations(staff) == [], "staff console with a case, in a call"
