"""Feedback and the greeter across processes: both run at the feature home with the
desks (`server.cluster.home`), so a citizen on any process is asked about their case,
rates their visit at the kiosk, and is handed from the greeter to a desk, whichever
processes the citizen, the staff and the greeter bot are connected to."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from agents.client import AgentClient
from server.privacy import redact
from tests.agents.test_greeter import greeter_bot
from tests.server.cluster.conftest import shared_space
from tests.server.harness import desk_events, open_desk_call, staff_agent, ws_url

PNR = "811218-9876"


async def walk(agent: AgentClient, x: float, z: float) -> None:
    """Walk to (x, z) in steps of 1.5 m every 50 ms (the test servers allow 40 m/s)."""
    while (d := math.dist((agent.x, agent.z), (x, z))) > 0.05:
        k = min(1.0, 1.5 / d)
        await agent.move(agent.x + (x - agent.x) * k, agent.z + (z - agent.z) * k)
        await asyncio.sleep(0.05)


async def test_surveys_reach_a_citizen_on_another_process_than_the_home(tmp_path: Path) -> None:
    async with shared_space(tmp_path, max_speed=40.0) as (a, b):
        assert a.home is not None and a.home.is_home
        async with (
            staff_agent(b, "Sara Lind", subject="sara") as sara,
            AgentClient(ws_url(b), name="Ada") as ada,
        ):
            # Everyone on b; the desks and the feedback run on a, which sees nobody.
            async with AgentClient(ws_url(b), name="Eve") as eve:
                await eve.expect("desk_board", timeout=15)  # on entering
                await sara.send({"t": "duty", "status": "available", "desk": "desk-2"})
                # The board changes for everyone in the hall, out of a's view too.
                board = await eve.expect("desk_board", timeout=15)
                assert any(d["desk"] == "desk-2" and d["staffed"] for d in board["desks"])
                assert eve.id not in a.space.by_id
            await open_desk_call(sara, ada)
            await sara.send({"t": "close_case", "outcome": "resolved"})
            survey = await ada.expect("survey", kind="case", timeout=15)
            assert survey["staff_name"] == "Sara Lind" and survey["outcome"] == "resolved"
            await ada.send({"t": "survey_answer", "survey": survey["survey"], "rating": 5})
            await ada.expect("survey_done", survey=survey["survey"], answered=True, timeout=15)

        # The kiosk asks how far away Cy is: b said where he was when it forwarded.
        async with AgentClient(ws_url(b), name="Cy") as cy:
            await cy.send({"t": "survey_request", "kind": "kiosk", "kiosk": "kiosk-hall"})
            far = await cy.expect("error", ref="survey_request", timeout=15)
            assert far["code"] == "too_far"
            for x, z in ((-25.0, 0.0), (-15.0, 0.0), (0.0, 18.0)):  # through the doorway
                await walk(cy, x, z)
            await cy.sync()
            assert not cy.taken("error")
            await cy.send({"t": "survey_request", "kind": "kiosk", "kiosk": "kiosk-hall"})
            kiosk = await cy.expect("survey", kind="kiosk", timeout=15)
            assert cy.id not in a.space.by_id  # not in a's view: nobody observes there
            await cy.send({"t": "survey_answer", "survey": kiosk["survey"], "rating": 4})
            await cy.expect("survey_done", survey=kiosk["survey"], answered=True, timeout=15)

        stream = [f for _id, f in await b.store.keyspace("feedback").read("answers")]
        assert [f["type"] for f in stream] == ["offered", "answered", "offered", "answered"]


async def test_the_greeter_hands_a_citizen_on_one_process_to_staff_on_another(
    tmp_path: Path,
) -> None:
    async with shared_space(tmp_path) as (a, b):
        assert a.home is not None and a.home.is_home
        async with (
            greeter_bot(b, home=a),  # the bot is on b, the greeter feature at a
            AgentClient(ws_url(b), name="Ada") as ada,
            staff_agent(a, "Sara Lind", subject="sara") as sara,
        ):
            ask = "Jag vill prata med en människa, mitt personnummer är " + PNR
            await ada.send({"t": "greeter_ask", "text": ask, "lang": "sv"})
            greeting = await ada.expect("greeter_said", timeout=15)
            assert "automatisk assistent" in greeting["text"]
            offer = await ada.expect("greeter_offer", timeout=15)
            assert offer["reason"] == "asked"
            await ada.send({"t": "greeter_consent", "conv": offer["conv"], "yes": True})
            ticket = await ada.expect("ticket", timeout=15)
            assert ticket["status"] == "waiting"
            outcome = await ada.expect("greeter_outcome", timeout=15)
            assert outcome["handed_over"] is True and outcome["ticket"] == ticket["ticket"]

            await sara.send({"t": "duty", "status": "available", "desk": "desk-1"})
            await sara.expect("duty", timeout=15)
            await sara.send({"t": "call_next"})
            case = await sara.expect("case", timeout=15)
            assert case["ticket"] == ticket["ticket"] and case["citizen"] == ada.id
            transcript = await sara.expect("greeter_transcript", timeout=15)
            first = transcript["lines"][0]
            assert first["from"] == "citizen" and first["text"] == redact(ask)
            assert PNR not in repr(transcript["lines"])
            await ada.expect("called", timeout=15)
        [arrived] = [e for e in await desk_events(a) if e["type"] == "arrived"]
        assert arrived["ticket"] == ticket["ticket"]
