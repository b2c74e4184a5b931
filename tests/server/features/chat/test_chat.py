"""Nearby and zone chat, history kept in Redis, identity numbers redacted."""

from __future__ import annotations

from pathlib import Path

from agents.client import AgentClient
from tests.server.harness import running_server, ws_url, zone_chat


async def test_near_chat_reaches_only_those_nearby(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path, max_speed=200.0) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
        AgentClient(ws_url(sp), name="Cy") as cy,
    ):
        await ada.move(-50.0, -30.0)
        await bo.move(-50.0, -25.0)
        await cy.move(-50.0, 30.0)  # same zone, 60 m away
        for c in (ada, bo, cy):
            await c.sync()
        await ada.chat("Hello, is this the queue?", scope="near")
        line = await bo.expect("chat")
        assert line["text"] == "Hello, is this the queue?"
        assert line["name"] == "Ada" and line["scope"] == "near" and line["zone"] == "lobby"
        mine = await ada.expect("chat")
        assert mine["id"] == ada.id
        # Cy is far: after a zone line that everyone gets, Cy has seen no near line.
        await bo.chat("Zone hello", scope="zone")
        await cy.expect("chat", text="Zone hello")
        assert not [m for m in cy.taken("chat") if m["scope"] == "near"]


async def test_zone_history_is_kept_and_redacted(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        async with AgentClient(ws_url(sp), name="Ada") as ada:
            await ada.chat("My personnummer is 19800101-1231, can you help?", scope="zone")
            line = await ada.expect("chat")
            assert "1234" not in line["text"] and "[id removed]" in line["text"]
        stored = await zone_chat(sp, "lobby", 10)
        assert stored and "19800101" not in stored[-1]["text"]
        async with AgentClient(ws_url(sp), name="Bo") as bo:
            history = await bo.expect("history", zone="lobby")
            assert [i["text"] for i in history["items"]] == [stored[-1]["text"]]


async def test_chat_history_is_capped(tmp_path: Path) -> None:
    async with (
        running_server(
            tmp_path, features={"chat": {"history": 5}}, rate_per_s=1000, rate_burst=1000
        ) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
    ):
        for i in range(12):
            await ada.chat(f"line {i}", scope="zone")
        await ada.expect("chat", text="line 11")
        stored = await zone_chat(sp, "lobby", 50)
        assert [s["text"] for s in stored] == [f"line {i}" for i in range(7, 12)]
