"""The staff bot serves a queue of citizens end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agents.client import AgentClient
from agents.staff_bot import StaffBot
from tests.server.harness import mint, running_server, ws_url


async def test_staff_bot_serves_in_arrival_order(tmp_path: Path) -> None:
    async with running_server(tmp_path, features={"desks": {"call_timeout_s": 1.0}}) as sp:
        token = mint("staff", "Sara Lind")
        citizens = [AgentClient(ws_url(sp), name=f"C{i}") for i in range(4)]
        for c in citizens:
            await c.connect()
        async with AgentClient(ws_url(sp), name="x", token=token) as client:
            bot = StaffBot(client, "desk-2", handle_s=0.05)
            await bot.go_on_duty()
            tickets = []
            for c in citizens:
                await c.send({"t": "take_ticket", "service": "general", "lang": "sv"})
                tickets.append((await c.expect("ticket"))["ticket"])

            async def answer(c: AgentClient) -> None:
                await c.expect("called", timeout=20)
                if c is not citizens[2]:  # the third one never shows up
                    await c.send({"t": "respond"})

            answering = [asyncio.create_task(answer(c)) for c in citizens]
            for _ in citizens:
                assert await bot.serve_one() is not None
            await asyncio.gather(*answering)
            assert bot.report.served == [tickets[0], tickets[1], tickets[3]]
            assert bot.report.no_shows == [tickets[2]]
            assert await bot.serve_one() is None  # queue empty
        for c in citizens:
            await c.close()
