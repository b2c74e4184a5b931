"""The audit trail (server/audit.py) and its admin routes (server/features/audit/).

First the log itself over the memory store: what an entry holds, what it never
holds, and the search filters. Then a real server: a duty change, a desk call,
a transfer with notes (the notes shown to staff), a kick and a dashboard view
each leave one entry, with subjects and ids and no names or text; admins, and
only admins, search and export it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.client import AgentClient
from server.audit import STREAM, AuditLog, token_actor
from server.store import MemoryStore
from tests.server.harness import http_url, mint, open_desk_call, running_server, staff_agent, ws_url


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def trail(clock: Clock | None = None) -> tuple[AuditLog, MemoryStore]:
    store = MemoryStore()
    return AuditLog(store.keyspace("audit"), "host-a:42", clock or Clock()), store


# -- the log ------------------------------------------------------------------------


async def test_an_entry_holds_who_what_whom_when_and_where() -> None:
    log, store = trail()
    entry_id = await log.record(
        "id:sara.lind", "staff", "desks.call", "A-001", {"desk": "desk-2", "auto": "no"}
    )
    [(got_id, fields)] = await store.keyspace("audit").read(STREAM)
    assert got_id == entry_id
    assert fields == {
        "ts": "1800000000.000",
        "process": "host-a:42",
        "actor": "id:sara.lind",
        "role": "staff",
        "action": "desks.call",
        "target": "A-001",
        "detail": '{"auto":"no","desk":"desk-2"}',
    }
    [found] = await log.search()
    assert found == {"id": entry_id, **fields}


async def test_entries_are_minimised() -> None:
    log, _ = trail()
    await log.record(
        "id:x",
        "staff",
        "desks.transfer",
        "ring 800101-1231",
        {"note": "pnr 800101-1231 " + "x" * 200, **{f"k{i:02}": "v" for i in range(30)}},
    )
    [entry] = await log.search()
    assert "800101" not in json.dumps(entry)
    detail = json.loads(entry["detail"])
    assert len(detail) == 16 and all(len(v) <= 64 for v in detail.values())
    assert (await log.search())[0]["detail"] == entry["detail"]
    await log.record("id:x", "staff", "desks.duty")
    assert (await log.search(action="desks.duty"))[0]["detail"] == "{}"
    for bad in ("duty", "Desks.duty", "desks.", "desks duty", ""):
        with pytest.raises(ValueError, match=r"<feature>\.<verb>"):
            await log.record("id:x", "staff", bad)


async def test_search_filters() -> None:
    clock = Clock(1000.0)
    log, _ = trail(clock)
    for i, (actor, action, target) in enumerate(
        [
            ("id:a", "desks.duty", "desk-1"),
            ("id:a", "desks.call", "A-001"),
            ("id:b", "desks.call", "A-002"),
            ("id:b", "moderation.kick", "citizen:p"),
            ("id:a", "desks.notes_read", "A-001"),
        ]
    ):
        clock.now = 1000.0 + 10 * i
        await log.record(actor, "staff", action, target)

    def shown(entries: list[dict[str, str]]) -> list[str]:
        return [f"{e['actor']} {e['action']} {e['target']}" for e in entries]

    assert len(await log.search()) == 5
    assert shown(await log.search(actor="id:b")) == [
        "id:b desks.call A-002",
        "id:b moderation.kick citizen:p",
    ]
    assert len(await log.search(action="desks.call")) == 2
    assert len(await log.search(action="desks.*")) == 4
    assert len(await log.search(action="desks")) == 0  # exact unless it ends with *
    assert shown(await log.search(target="A-001")) == [
        "id:a desks.call A-001",
        "id:a desks.notes_read A-001",
    ]
    assert len(await log.search(since=1010.0, until=1030.0)) == 3  # inclusive
    assert len(await log.search(since=1041.0)) == 0
    assert shown(await log.search(actor="id:a", action="desks.*", since=1005.0)) == [
        "id:a desks.call A-001",
        "id:a desks.notes_read A-001",
    ]
    assert shown(await log.search(limit=2)) == [  # the newest, oldest first
        "id:b moderation.kick citizen:p",
        "id:a desks.notes_read A-001",
    ]
    with pytest.raises(ValueError):
        await log.search(limit=0)


async def test_search_reads_past_one_page() -> None:
    log, _ = trail()
    for i in range(2100):
        await log.record("id:a" if i % 700 else "id:z", "staff", "desks.call", f"A-{i}")
    assert len(await log.search(limit=None)) == 2100
    assert [e["target"] for e in await log.search(actor="id:z")] == ["A-0", "A-700", "A-1400"]
    assert (await log.search(limit=1))[0]["target"] == "A-2099"


def test_token_actor_names_a_token_subject_as_the_edge_does() -> None:
    assert token_actor("sara.lind") == token_actor("id:sara.lind") == "id:sara.lind"
    assert token_actor("") == ""


# -- a real server ----------------------------------------------------------------------


async def until(check: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait for a condition an asynchronous write makes true (a spawned audit record)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


def bearer(role: str, subject: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint(role, subject.title(), subject)}


async def test_privileged_actions_are_on_the_trail_and_admins_search_and_export_it(
    tmp_path: Path,
) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp, "Sara Lind", subject="sara.lind") as sara,
        staff_agent(sp, "Hana Host", role="host", subject="hana") as hana,
        AgentClient(ws_url(sp), name="Ada Lovelace") as ada,
        AgentClient(ws_url(sp), name="Troll Trollsson") as troll,
        httpx.AsyncClient(timeout=10) as http,
    ):
        assert sp.audit is not None
        log = sp.audit
        await open_desk_call(sara, ada)  # duty, take_ticket, call_next, respond
        ticket = ada.taken("ticket")[0]["ticket"]
        await sara.send(
            {"t": "transfer", "service": "registration", "notes": "Ada needs form B-12"}
        )
        case = await sara.expect("case", status="waiting")
        assert case["notes"] == ["Sara Lind: Ada needs form B-12"]  # the notes were shown

        person = sp.people.get(troll.id)
        assert person is not None
        troll_subject = person.subject
        await hana.send({"t": "kick", "id": troll.id, "reason": "Troll Trollsson spammed"})
        assert (await troll.wait_closed())[0] == 4004

        for _ in range(3):  # the page polls: one view on the trail, not one per poll
            reply = await http.get(
                http_url(sp, "/api/insight/dashboard"), headers=bearer("manager", "mia")
            )
            assert reply.status_code == 200

        async def complete() -> bool:
            actions = {e["action"] for e in await log.search()}
            return {"desks.notes_read", "insight.dashboard_view"} <= actions

        await until(complete)
        entries = await log.search()
        by_action = {e["action"]: e for e in entries}
        duty = by_action["desks.duty"]
        assert (duty["actor"], duty["role"], duty["target"]) == ("id:sara.lind", "staff", "desk-2")
        assert json.loads(duty["detail"]) == {"status": "available"}
        call = by_action["desks.call"]
        assert (call["actor"], call["target"]) == ("id:sara.lind", ticket)
        assert json.loads(call["detail"]) == {"auto": "no", "desk": "desk-2", "service": "general"}
        transfer = by_action["desks.transfer"]
        assert transfer["target"] == ticket
        assert json.loads(transfer["detail"]) == {"notes": "yes", "service": "registration"}
        notes = by_action["desks.notes_read"]
        assert (notes["actor"], notes["target"], notes["detail"]) == (
            "id:sara.lind",
            ticket,
            '{"notes":"1"}',
        )
        kick = by_action["moderation.kick"]
        assert (kick["actor"], kick["role"], kick["target"]) == ("id:hana", "host", troll_subject)
        assert json.loads(kick["detail"]) == {"reason_given": "yes"}
        assert [e["action"] for e in entries].count("insight.dashboard_view") == 1
        view = by_action["insight.dashboard_view"]
        assert (view["actor"], view["role"]) == ("id:mia", "manager")
        assert all(e["process"] == log.process and float(e["ts"]) > 0 for e in entries)
        # Subjects and ids only: no citizen's name, no note, no reason typed.
        raw = json.dumps(await sp.store.keyspace("audit").read(STREAM))
        for text in ("Ada", "Lovelace", "Troll", "form B", "spammed", "Sara Lind"):
            assert text not in raw, text

        # -- admins search ----------------------------------------------------------
        admin = bearer("admin", "root")

        async def search(**query: str) -> list[dict[str, Any]]:
            r = await http.get(http_url(sp, "/api/audit/search"), params=query, headers=admin)
            assert r.status_code == 200, r.text
            body = r.json()
            assert isinstance(body["entries"], list)
            return list(body["entries"])

        mine = await search(actor="id:sara.lind")
        assert mine and {e["actor"] for e in mine} == {"id:sara.lind"}
        assert {e["action"] for e in mine} >= {"desks.duty", "desks.call", "desks.notes_read"}
        assert {e["action"] for e in await search(action="desks.*")} <= {
            "desks.duty",
            "desks.call",
            "desks.transfer",
            "desks.notes_read",
        }
        on_ticket = await search(target=ticket)
        assert [e["action"] for e in on_ticket][:2] == ["desks.call", "desks.transfer"]
        assert on_ticket[0]["detail"] == {"auto": "no", "desk": "desk-2", "service": "general"}
        assert [e["action"] for e in await search(target=troll_subject)] == ["moderation.kick"]
        ts = float(call["ts"])
        assert await search(until=str(ts - 3600)) == []
        assert len(await search(since=str(ts), action="desks.call")) == 1
        iso = await search(since="2000-01-01T00:00:00", action="moderation.kick")
        assert len(iso) == 1
        r = await http.get(http_url(sp, "/api/audit/search"), params={"limit": "1"}, headers=admin)
        assert len(r.json()["entries"]) == 1 and r.json()["truncated"] is True
        for bad in ({"since": "yesterday"}, {"limit": "0"}, {"since": "20", "until": "10"}):
            r = await http.get(http_url(sp, "/api/audit/search"), params=bad, headers=admin)
            assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", bad
        searches = await log.search(action="audit.search", actor="id:root")
        assert searches and json.loads(searches[0]["detail"])["filters"] == "actor"

        # -- and export -------------------------------------------------------------
        r = await http.get(http_url(sp, "/api/audit/export"), headers=admin)
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
        assert 'filename="audit.jsonl"' in r.headers["content-disposition"]
        lines = [json.loads(line) for line in r.text.splitlines()]
        assert {"desks.duty", "moderation.kick", "audit.search"} <= {e["action"] for e in lines}
        r = await http.get(
            http_url(sp, "/api/audit/export"),
            params={"format": "csv", "action": "desks.*"},
            headers=admin,
        )
        assert r.status_code == 200 and 'filename="audit.csv"' in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows and {row["action"][:6] for row in rows} == {"desks."}
        assert set(rows[0]) == {
            "id",
            "ts",
            "process",
            "actor",
            "role",
            "action",
            "target",
            "detail",
        }
        r = await http.get(
            http_url(sp, "/api/audit/export"), params={"format": "xml"}, headers=admin
        )
        assert r.status_code == 400
        exports = await log.search(action="audit.export")
        assert [json.loads(e["detail"]).get("format") for e in exports] == ["jsonl", "csv"]

        # -- for admins only ----------------------------------------------------------
        for path in ("/api/audit/search", "/api/audit/export"):
            r = await http.get(http_url(sp, path))
            assert r.status_code == 401
            for role in ("manager", "staff", "host"):
                r = await http.get(http_url(sp, path), headers=bearer(role, "nosy"))
                assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden"), role
