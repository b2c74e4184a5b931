"""The page under the Content-Security-Policy the server is to send on every page.

The policy (tests/web/conftest.py `content_security_policy`) allows scripts only
from the server and the inline import map by its hash: no other inline script,
no inline event handlers, no eval. The page joins, takes a ticket, switches
language and runs axe (as a same-origin script) without a single violation;
an inline script added on purpose is refused, so the header was in force.
"""

from __future__ import annotations

import urllib.request
from typing import Any

from tests.web.conftest import Server, content_security_policy, inline_script_hashes, join
from tests.web.test_a11y import axe_violations

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI,
                                sample: e.sample });
});
"""
REFUSED = "inline script violates the following Content Security Policy"


def violations(page: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("window.__cspViolations")
    return found


def test_only_the_import_map_is_inline(server: Server) -> None:
    with urllib.request.urlopen(server.url + "/", timeout=10) as r:
        html = r.read().decode()
    assert len(inline_script_hashes(html)) == 1  # the import map
    policy = content_security_policy(html)
    assert "'unsafe-eval'" not in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    lowered = html.lower()
    assert "javascript:" not in lowered
    for handler in ("onclick=", "onload=", "onerror=", "onsubmit=", "onchange=", "oninput="):
        assert handler not in lowered, handler


def test_the_page_works_under_the_policy(hall: Server, open_page: Any) -> None:
    page = open_page(base=hall.url, csp=True, init_script=RECORD_VIOLATIONS, allow=(REFUSED,))
    assert page.evaluate("document.querySelector('script[type=importmap]') !== null")
    join(page, "Cecilia")
    page.check("#service-choices input[value=general]")
    page.click("#service-take")
    page.wait_for_function(
        "() => window.servicepoint.state().ticket?.status === 'waiting'", timeout=20_000
    )
    # Strings come from the JSON catalogues (connect-src 'self') and format with ICU.
    assert page.text_content("#ticket-position").startswith("1")
    page.select_option("#lang-select", "sv")
    assert page.text_content("#ticket-heading") == "Din kölapp"
    assert axe_violations(page) == []
    page.reload()
    page.wait_for_function("() => window.servicepoint?.state().connected", timeout=20_000)
    assert violations(page) == []

    # The policy is in force: an inline script is refused (and reported).
    ran = page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__inlineRan = true';
                   document.head.append(s);
                   return window.__inlineRan === true; }"""
    )
    assert ran is False
    page.wait_for_function("() => window.__cspViolations.length > 0", timeout=5_000)
    assert [v["directive"] for v in violations(page)] == ["script-src-elem"]
