"""Accessibility: axe-core finds no WCAG 2.1 A/AA violations, before and after joining.

axe-core comes from clients/web/node_modules (installed by `npm ci`), injected
into the page; no network access is needed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import WEB, join

AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
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


@pytest.mark.parametrize("lang", ["en-US", "ja-JP"])
def test_no_axe_violations_before_and_after_joining(open_page: Any, lang: str) -> None:
    page = open_page(lang=lang)
    assert axe_violations(page) == []
    join(page, "Axel")
    page.wait_for_function(
        "document.querySelector('#chat-lines').textContent.length > 0", timeout=15_000
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
