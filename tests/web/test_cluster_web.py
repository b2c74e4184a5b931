"""Two browser tabs through a real HAProxy land on two real server processes (one
Redis, ``SERVICEPOINT_CLUSTER=1``) and meet in one hall: they see each other and
near chat typed in one reaches the other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cluster.harness import Cluster, cluster, gauge
from tests.web.conftest import AgentLoop, join, state

WAIT_MS = 20_000


def connections(c: Cluster) -> list[float]:
    return [gauge(b.metrics(), "servicepoint_connections") for b in c.backends]


def test_two_tabs_on_two_processes_meet_in_one_hall(
    open_page: Any, agents: AgentLoop, tmp_path: Path
) -> None:
    cm = cluster(tmp_path, 2)
    c = agents.run(cm.__aenter__(), timeout=120)
    pages: list[Any] = []
    try:
        a = open_page(base=c.http)
        pages.append(a)
        a_id = join(a, "Astrid")["selfId"]
        b = open_page(base=c.http)
        pages.append(b)
        b_id = join(b, "Bengt", avatar="tall")["selfId"]
        # HAProxy's leastconn: the second tab's socket goes to the other process.
        assert connections(c) == [1.0, 1.0]
        for page, other, name in ((a, b_id, "Bengt"), (b, a_id, "Astrid")):
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
    finally:
        for page in pages:  # before the servers stop, so no page tries to reconnect
            page.context.close()
        agents.run(cm.__aexit__(None, None, None), timeout=120)
