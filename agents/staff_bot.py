"""A staff bot: goes on duty at a desk and serves tickets, for tests and load runs.

    python -m agents.staff_bot --url ws://127.0.0.1:8000/ws --token <staff token> \\
        --desk desk-1 --handle-seconds 5 --seconds 60

It calls the next ticket whenever it is free, waits for the citizen to
respond (or for the no-show), "serves" for ``handle_s`` seconds, then closes
the case as resolved. A `VoicePeer` can be attached to talk during the case.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field

from agents.client import AgentClient


@dataclass
class StaffBotReport:
    served: list[str] = field(default_factory=list)
    no_shows: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class StaffBot:
    def __init__(self, client: AgentClient, desk: str, handle_s: float = 1.0) -> None:
        self.client = client
        self.desk = desk
        self.handle_s = handle_s
        self.report = StaffBotReport()

    async def go_on_duty(self) -> None:
        await self.client.send({"t": "duty", "status": "available", "desk": self.desk})
        await self.client.expect("duty", status="available")

    async def serve_one(self, wait_s: float = 30.0) -> str | None:
        """Call the next ticket and serve it. Returns the ticket id, or None if nobody waits."""
        c = self.client
        await c.send({"t": "call_next"})
        deadline = time.monotonic() + wait_s

        def answered() -> bool:
            return bool(c.taken("case")) or any(
                e.get("ref") == "call_next" for e in c.taken("error")
            )

        await c.wait_for(answered, timeout=wait_s)
        errors = [e for e in c.taken("error") if e.get("ref") == "call_next"]
        if errors:
            for e in errors:
                c.messages.remove(e)
            if errors[0]["code"] == "queue_empty":
                return None
            self.report.errors.append(errors[0]["code"])
            return None
        case = await c.expect("case", status="called")
        ticket = str(case["ticket"])

        def outcome() -> str | None:
            for m in c.messages:
                if m["t"] == "call" and m["active"]:
                    return "call"
                if m["t"] == "case" and m["ticket"] == ticket and m["status"] == "no_show":
                    return "no_show"
            return None

        # The citizen responds (a call opens) or does not (no-show).
        await c.wait_for(
            lambda: outcome() is not None, timeout=max(0.1, deadline - time.monotonic())
        )
        if outcome() == "no_show":
            self._forget(ticket)
            self.report.no_shows.append(ticket)
            return ticket
        await c.expect("call", active=True)
        await asyncio.sleep(self.handle_s)
        await c.send({"t": "close_case", "outcome": "resolved"})
        await c.expect("case", status="done", ticket=ticket)
        with contextlib.suppress(TimeoutError):
            await c.expect("call", active=False, timeout=2)
        self._forget(ticket)
        self.report.served.append(ticket)
        return ticket

    def _forget(self, ticket: str) -> None:
        """Drop what is left of a finished case from the message log."""
        self.client.messages[:] = [
            m for m in self.client.messages if not (m["t"] == "case" and m["ticket"] == ticket)
        ]

    async def run(self, seconds: float, idle_poll_s: float = 0.5) -> StaffBotReport:
        await self.go_on_duty()
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            if await self.serve_one() is None:
                await asyncio.sleep(idle_poll_s)
        return self.report


async def _main(args: argparse.Namespace) -> StaffBotReport:
    async with AgentClient(args.url, name="bot", token=args.token) as client:
        return await StaffBot(client, args.desk, args.handle_seconds).run(args.seconds)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="agents.staff_bot", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="ws://127.0.0.1:8000/ws")
    p.add_argument("--token", required=True, help="a staff token (servicepoint token --role staff)")
    p.add_argument("--desk", default="desk-1")
    p.add_argument("--handle-seconds", type=float, default=5.0)
    p.add_argument("--seconds", type=float, default=60.0)
    args = p.parse_args(argv)
    report = asyncio.run(_main(args))
    json.dump(report.__dict__, sys.stdout)
    sys.stdout.write("\n")
    return 0 if not report.errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
