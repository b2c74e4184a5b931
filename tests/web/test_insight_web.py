"""Alerts in the hall (the insight feature's page side), in real Chromium.

A rules file of the test's own fires at once when anyone waits for General
enquiries; a manager in the hall gets the `alert`: a firing one goes to the
panel's role=alert region, a resolved one to its role=status region, with the
service named in the page's language and the kind translated.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.client import AgentClient
from server.app import ServicePoint
from tests.server.harness import mint
from tests.web.conftest import AgentLoop, join, own_server
from tests.web.test_a11y import axe_violations

WAIT_MS = 20_000
RULES = """
[[rule]]
name = "anyone-waiting"
kind = "queue_length"
services = ["general"]
threshold = 0
for = "0s"
keep_firing_for = "0s"
severity = "warning"
"""


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    rules = tmp_path / "alerts.toml"
    rules.write_text(RULES, encoding="utf-8")
    yield from own_server(
        agents, tmp_path / "data", features={"insight": {"alert_rules": str(rules)}}
    )


def test_manager_sees_alerts_fire_and_resolve(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    base = f"http://127.0.0.1:{sp.port}"
    page = open_page(f"/?token={mint('manager', 'Mia Berg')}", base=base)
    s = join(page, "Mia Berg")
    assert s["role"] == "manager"
    assert page.is_visible("#alerts-panel")
    assert page.text_content("#alerts-none") == "No alerts right now."
    assert page.get_attribute("#alerts-firing", "role") == "alert"
    assert page.get_attribute("#alerts-other", "role") == "status"

    citizen = AgentClient(f"ws://127.0.0.1:{sp.port}/ws", name="Ada")
    try:
        agents.run(citizen.connect())
        agents.run(citizen.send({"t": "take_ticket", "service": "general", "lang": "en"}))
        agents.run(citizen.expect("ticket"))
        line = page.wait_for_selector(
            "#alerts-firing .alert-line[data-state=firing]", timeout=WAIT_MS
        )
        text = line.text_content()
        assert text.startswith("Alert (since ")
        assert "General enquiries: 1 person is in the queue, more than 0." in text
        assert page.is_hidden("#alerts-none")
        assert axe_violations(page) == []

        page.select_option("#lang-select", "sv")
        assert "Allmänna frågor: 1 person står i kön" in line.text_content()
        page.select_option("#lang-select", "en")

        agents.run(citizen.send({"t": "leave_queue"}))
        resolved = page.wait_for_selector(
            "#alerts-other .alert-line[data-state=resolved]", timeout=WAIT_MS
        )
        assert resolved.text_content().startswith("Resolved (alert from ")
        assert page.locator("#alerts-firing .alert-line").count() == 0
        alerts = page.evaluate("window.servicepoint.state().alerts")
        assert [(a["kind"], a["state"], a["service"]) for a in alerts] == [
            ("queue_length", "resolved", "general")
        ]
    finally:
        agents.run(citizen.close())
