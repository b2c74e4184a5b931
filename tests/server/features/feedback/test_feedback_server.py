"""Feedback on a live server: real sockets, the embedded Redis, a restart on the same data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.client import AgentClient
from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import validate
from server.app import ServicePoint
from server.privacy import PLACEHOLDER
from tests.server.harness import open_desk_call, running_server, staff_agent, ws_url

FEEDBACK_TYPES = frozenset({"survey", "survey_done", "feedback_shared"})


async def send(agent: AgentClient, msg: dict[str, Any]) -> None:
    """Send a client message that must itself be valid (the bad ones are sent raw)."""
    await agent.send(validate(msg, CLIENT_MESSAGES))


async def answers(sp: ServicePoint) -> list[dict[str, str]]:
    return [fields for _id, fields in await sp.store.keyspace("feedback").read("answers")]


async def close_case(sara: AgentClient, citizen: AgentClient, outcome: str) -> None:
    await send(sara, {"t": "close_case", "outcome": outcome})
    assert (await citizen.expect("ticket", status="done"))["outcome"] == outcome
    await sara.expect("case", status="done")


async def test_survey_after_a_desk_case_and_after_a_restart(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        sara = staff_agent(sp)
        ada = AgentClient(ws_url(sp), name="Ada")
        bo = AgentClient(ws_url(sp), name="Bo")
        eve = AgentClient(ws_url(sp), name="Eve")  # a bystander
        for agent in (sara, ada, bo, eve):
            await agent.connect()

        # Ada's case: served and resolved; she is asked at once.
        await open_desk_call(sara, ada)
        await close_case(sara, ada, "resolved")
        survey = await ada.expect("survey")
        assert survey == {
            "t": "survey",
            "survey": "c-A-001",
            "kind": "case",
            "service": "general",
            "desk": "desk-2",
            "outcome": "resolved",
            "staff_name": "Sara Lind",
        }

        # A rating outside 1-5 is refused at the edge; the connection stays open.
        await ada.send({"t": "survey_answer", "survey": "c-A-001", "rating": 6})
        error = await ada.expect("error")
        assert error["code"] == "out_of_range"
        await ada.sync()
        assert ada.closed is not None and not ada.closed.done()
        # So is a huge comment, and a second kind of bad rating; still open, nothing stored.
        huge = {"t": "survey_answer", "survey": "c-A-001", "rating": 4, "comment": "x" * 1001}
        await ada.send(huge)
        assert (await ada.expect("error"))["code"] == "too_long"
        await ada.send({"t": "survey_answer", "survey": "c-A-001", "rating": 0})
        assert (await ada.expect("error"))["code"] == "out_of_range"
        await ada.sync()
        assert ada.closed is not None and not ada.closed.done()
        stored = [f for _id, f in await sp.store.keyspace("feedback").read("answers")]
        assert [f["type"] for f in stored] == ["offered"]

        await send(
            ada,
            {
                "t": "survey_answer",
                "survey": "c-A-001",
                "rating": 4,
                "easy": 5,
                "comment": "Sara helped me with 19800101-1231 quickly",
                "share": True,
            },
        )
        assert await ada.expect("survey_done") == {
            "t": "survey_done",
            "survey": "c-A-001",
            "answered": True,
        }
        shared = await sara.expect("feedback_shared")
        assert shared == {
            "t": "feedback_shared",
            "service": "general",
            "rating": 4,
            "comment": f"Sara helped me with {PLACEHOLDER} quickly",
        }
        assert "Ada" not in repr(shared)

        await send(ada, {"t": "survey_answer", "survey": "c-A-001", "rating": 5})
        assert (await ada.expect("error"))["code"] == "already_answered"

        # Bo's case: referred; he is asked but does not answer before the restart.
        await send(bo, {"t": "take_ticket", "service": "general", "lang": "en"})
        await bo.expect("ticket")
        await send(sara, {"t": "call_next"})
        await bo.expect("called")
        await send(bo, {"t": "respond"})
        await bo.expect("call", active=True)
        await close_case(sara, bo, "referred")
        assert (await bo.expect("survey"))["survey"] == "c-A-002"

        for agent in (ada, bo, eve, sara):
            await agent.sync()
        # Nobody else heard of either survey, the bad rating or the answer.
        assert [m for m in eve.messages if m["t"] in FEEDBACK_TYPES] == []
        assert eve.stats.errors == []
        assert not any("19800101" in repr(m) or "helped" in repr(m) for m in eve.messages)
        assert [m for m in bo.messages if m["t"] in {"survey_done", "feedback_shared"}] == []
        assert [m for m in sara.messages if m["t"] in {"survey", "survey_done"}] == []

        entries = await answers(sp)
        assert [(f["type"], f["survey"]) for f in entries] == [
            ("offered", "c-A-001"),
            ("answered", "c-A-001"),
            ("offered", "c-A-002"),
        ]
        answered = entries[1]
        assert answered["rating"] == "4" and answered["easy"] == "5"
        assert answered["shared"] == "1" and "19800101" not in answered["comment"]
        for fields in entries:
            assert "citizen" not in fields
            assert not any("Ada" in v or v == "Bo" for v in fields.values())
        for agent in (sara, ada, bo, eve):
            await agent.close()

    async with running_server(tmp_path) as sp2:
        assert [(f["type"], f["survey"]) for f in await answers(sp2)] == [
            ("offered", "c-A-001"),
            ("answered", "c-A-001"),
            ("offered", "c-A-002"),
        ]
        # Bo comes back with his citizen key (a new avatar): his survey is offered again.
        assert bo.citizen is not None
        bo_again = AgentClient(ws_url(sp2), name="Bo", citizen=bo.citizen)
        await bo_again.connect()
        assert bo_again.welcome is not None and not bo_again.welcome["resumed"]
        again = await bo_again.expect("survey")
        assert again["survey"] == "c-A-002" and again["outcome"] == "referred"
        await send(bo_again, {"t": "survey_answer", "survey": "c-A-002", "rating": 2})
        assert (await bo_again.expect("survey_done"))["answered"] is True

        # Ada comes back (her resume token): her answered survey stays answered.
        ada_again = AgentClient(ws_url(sp2), name="x", resume=ada.resume)
        await ada_again.connect()
        assert ada_again.welcome is not None and ada_again.welcome["resumed"]
        await ada_again.sync()
        assert ada_again.taken("survey") == []
        await send(ada_again, {"t": "survey_answer", "survey": "c-A-001", "rating": 1})
        assert (await ada_again.expect("error"))["code"] == "already_answered"

        entries = await answers(sp2)
        assert [(f["type"], f["survey"]) for f in entries][-1] == ("answered", "c-A-002")
        assert [f["rating"] for f in entries if f["type"] == "answered"] == ["4", "2"]
        for agent in (bo_again, ada_again):
            await agent.close()
