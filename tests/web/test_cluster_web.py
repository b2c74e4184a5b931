"""Two browser tabs through a real HAProxy land on two real server processes (one
Redis, ``SERVICEPOINT_CLUSTER=1``) and meet in one hall: they see each other, near
chat typed in one reaches the other, and the staff member in one tab serves the
citizen in the other at a desk, with voice (Chromium's fake microphones, WebRTC
stats in both pages): the desks run at the feature home, the other process forwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server.identity import Keyring
from tests.cluster.harness import Cluster, cluster, gauge
from tests.server.harness import SECRET
from tests.web.conftest import AgentLoop, join, state
from tests.web.test_desk import take_ticket_with_clicks, voice_stats, wait_state

WAIT_MS = 20_000


def connections(c: Cluster) -> list[float]:
    return [gauge(b.metrics(), "servicepoint_connections") for b in c.backends]


def hears(page: Any) -> None:
    """The page's voice call is connected and sound keeps arriving."""
    wait_state(page, "s.voice.state === 'connected'", timeout=30_000)
    first = voice_stats(page, lambda st: st is not None)
    before = max((i["bytesReceived"] for i in first["inbound"]), default=0)
    voice_stats(
        page,
        lambda st: any(
            i["bytesReceived"] > before + 4000 and i["audioLevel"] > 0 for i in st["inbound"]
        ),
    )


def test_two_tabs_on_two_processes_meet_in_one_hall_and_at_a_desk(
    open_page: Any, agents: AgentLoop, media_browser: Any, tmp_path: Path
) -> None:
    cm = cluster(tmp_path, 2)
    c = agents.run(cm.__aenter__(), timeout=120)
    pages: list[Any] = []
    try:
        a = open_page(base=c.http, on=media_browser)
        pages.append(a)
        a_id = join(a, "Astrid")["selfId"]
        token = Keyring(SECRET).mint("staff", "Sara Lind", subject="sara")
        b = open_page(f"/?token={token}", base=c.http, on=media_browser)
        pages.append(b)
        b_id = join(b, "Sara Lind", avatar="tall")["selfId"]
        # HAProxy's leastconn: the second tab's socket goes to the other process.
        assert connections(c) == [1.0, 1.0]
        for page, other, name in ((a, b_id, "Sara Lind"), (b, a_id, "Astrid")):
            page.wait_for_function(
                "id => String(id) in window.servicepoint.state().others",
                arg=other,
                timeout=WAIT_MS,
            )
            assert state(page)["others"][str(other)]["name"] == name
        line = "Hej from the other process"
        a.fill("#chat-input", line)
        a.press("#chat-input", "Enter")
        b.wait_for_function(
            "text => document.querySelector('#chat-lines').textContent.includes(text)",
            arg=line,
            timeout=WAIT_MS,
        )
        entry = next(e for e in state(b)["chatLog"] if e["text"] == line)
        assert entry["name"] == "Astrid"

        # The desk: Sara goes on duty in her tab, Astrid takes a ticket in hers.
        b.select_option("#duty-desk", "desk-2")
        b.check("#duty-form input[name=duty-status][value=available]")
        b.click("#duty-submit")
        wait_state(b, "s.staff.duty.status === 'available'")
        take_ticket_with_clicks(a, "general", "en")
        b.wait_for_selector("#call-next:not([disabled])", timeout=WAIT_MS)
        b.click("#call-next")
        wait_state(b, "s.staff.case && s.staff.case.ticket === 'A-001'")
        assert b.text_content("#case-name") == "Astrid"
        a.wait_for_selector("#called-panel", state="visible", timeout=WAIT_MS)
        a.click("#called-coming")
        # Both join the desk call's voice and hear each other through the home.
        hears(a)
        hears(b)
    finally:
        for page in pages:  # before the servers stop, so no page tries to reconnect
            page.context.close()
        agents.run(cm.__aexit__(None, None, None), timeout=120)
