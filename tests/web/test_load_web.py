"""The hall's status line says so, in the page's language, while the server runs
slower than its tick rate (real slow ticks on a real server), and stops saying so
once it is on time again; the line is role=status, so it is announced politely."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.app import ServicePoint
from tests.web.conftest import AgentLoop, join, own_server, url

WAIT_MS = 20_000


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    yield from own_server(agents, tmp_path)


def slow_tick(_tick: int) -> None:
    time.sleep(0.08)


def test_the_status_line_tells_of_a_busy_hall(
    sp: ServicePoint, agents: AgentLoop, open_page: Any
) -> None:
    page = open_page(base=url(sp), lang="sv-SE")
    join(page, "Astrid")
    status = page.locator("#status")
    assert status.get_attribute("role") == "status"
    # A starved machine (CI: two cores, Chromium starting) may run the first
    # ticks late, so the line may begin busy; it must settle on time first.
    page.wait_for_selector("#status[data-busy=false]", timeout=WAIT_MS)
    agents.loop.call_soon_threadsafe(sp.tick.after_tick.append, slow_tick)
    page.wait_for_selector("#status[data-busy=true]", timeout=WAIT_MS)
    assert "Hallen är hårt belastad" in status.inner_text()
    agents.loop.call_soon_threadsafe(sp.tick.after_tick.remove, slow_tick)
    page.wait_for_selector("#status[data-busy=false]", timeout=WAIT_MS)
    assert "belastad" not in status.inner_text()
