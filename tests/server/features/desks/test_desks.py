"""Live service at the desks: duty, tickets, calls, cases, and who may do what."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agents.client import AgentClient
from tests.server.harness import (
    desk_events,
    desk_notes,
    mint,
    open_desk_call,
    running_server,
    staff_agent,
    ws_url,
)

SARA = "Sara Lind"  # general + registration; sv, en, da (server/data/world.toml)


async def test_take_ticket_call_serve_close(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        await sara.send({"t": "duty", "status": "available", "desk": "desk-2"})
        duty = await sara.expect("duty")
        assert duty == {"t": "duty", "status": "available", "desk": "desk-2", "auto": False}
        placed = await sara.expect("correct")
        assert (placed["x"], placed["z"]) == (-4.0, -30.0)  # behind desk-2

        await ada.send({"t": "take_ticket", "service": "registration", "lang": "sv"})
        first = await ada.expect("ticket")
        assert first["ticket"] == "B-001" and first["status"] == "waiting"
        assert first["position"] == 1 and first["wait_s"] == 0  # Sara is free to call it
        await bo.send({"t": "take_ticket", "service": "general", "lang": "en"})
        second = await bo.expect("ticket")
        assert second["ticket"] == "A-001" and second["position"] == 1

        queue = await sara.expect("queue")
        while len(queue["tickets"]) < 2:
            queue = await sara.expect("queue")
        assert [t["ticket"] for t in queue["tickets"]] == ["B-001", "A-001"]
        assert queue["staff"] == [{"name": SARA, "desk": "desk-2", "status": "available"}]

        await sara.send({"t": "call_next"})
        case = await sara.expect("case")
        assert case["ticket"] == "B-001" and case["citizen"] == ada.id and case["name"] == "Ada"
        called = await ada.expect("called")
        assert called["desk"] == "desk-2" and called["timeout_s"] == 60
        assert (await ada.expect("ticket", status="called"))["desk"] == "desk-2"

        await ada.send({"t": "respond"})
        call_a = await ada.expect("call")
        call_s = await sara.expect("call")
        assert call_a == call_s and call_a["active"]
        assert {m["id"] for m in call_a["members"]} == {ada.id, sara.id}

        await ada.send({"t": "desk_say", "text": "I have no microphone, can we type?"})
        assert (await sara.expect("desk_say"))["text"] == "I have no microphone, can we type?"
        await ada.expect("desk_say")

        await sara.send(
            {"t": "close_case", "outcome": "resolved", "notes": "Moved; pnr 19800101-1231 checked"}
        )
        done = await ada.expect("ticket", status="done")
        assert done["outcome"] == "resolved"
        assert not (await ada.expect("call", active=False))["active"]
        assert (await sara.expect("case", status="done"))["ticket"] == "B-001"
        notes = await desk_notes(sp, "B-001")
        assert notes[0]["by"] == SARA and "19800101" not in notes[0]["text"]
        # Notes are for staff only: no message to the citizen ever carried them.
        assert not any("Moved" in repr(m) for m in ada.messages)
        events = [e["type"] for e in await desk_events(sp)]
        assert events == ["arrived", "arrived", "called", "started", "ended"]


async def test_matching_skills_and_languages(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp, "Jonas Weber") as jonas,  # permits + general; de, en
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
        AgentClient(ws_url(sp), name="Cy") as cy,
    ):
        await jonas.send({"t": "duty", "status": "available", "desk": "desk-4"})
        await jonas.expect("duty")
        await ada.send({"t": "take_ticket", "service": "permits", "lang": "ja"})  # no Japanese
        await bo.send({"t": "take_ticket", "service": "benefits", "lang": "de"})  # not his desk
        await cy.send({"t": "take_ticket", "service": "permits", "lang": "de"})
        for c in (ada, bo, cy):
            await c.expect("ticket")
        await jonas.send({"t": "call_next"})
        assert (await jonas.expect("case"))["citizen"] == cy.id
        await cy.expect("called")
        assert not ada.taken("called") and not bo.taken("called")


async def test_positions_update_live_and_leaving(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        await ada.send({"t": "take_ticket", "service": "general", "lang": "sv"})
        await ada.expect("ticket")
        await bo.send({"t": "take_ticket", "service": "general", "lang": "sv"})
        assert (await bo.expect("ticket"))["position"] == 2
        await ada.send({"t": "take_ticket", "service": "general", "lang": "sv"})
        assert (await ada.expect("error"))["code"] == "already_queued"
        await ada.send({"t": "leave_queue"})
        assert (await ada.expect("ticket"))["status"] == "left"
        assert (await bo.expect("ticket"))["position"] == 1


async def test_citizens_cannot_act_as_staff(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Eve") as eve,
    ):
        for msg in (
            {"t": "call_next"},
            {"t": "duty", "status": "available", "desk": "desk-1"},
            {"t": "close_case", "outcome": "resolved", "notes": "x"},
            {"t": "transfer", "service": "general"},
            {"t": "invite", "id": eve.id},
        ):
            await eve.send(msg)
            err = await eve.expect("error")
            assert err["code"] == "forbidden" and err["ref"] == msg["t"]
        # Eve cannot join Ada's desk call.
        await sara.send({"t": "duty", "status": "available", "desk": "desk-1"})
        await ada.send({"t": "take_ticket", "service": "general", "lang": "en"})
        await sara.expect("duty")
        await ada.expect("ticket")
        await sara.send({"t": "call_next"})
        await ada.expect("called")
        await ada.send({"t": "respond"})
        await ada.expect("call")
        await eve.send({"t": "rtc_offer", "sdp": "v=0"})
        assert (await eve.expect("error"))["code"] == "not_in_call"
        await eve.send({"t": "desk_say", "text": "let me in"})
        assert (await eve.expect("error"))["code"] == "not_in_call"
        await eve.send({"t": "respond"})
        assert (await eve.expect("error"))["code"] == "no_ticket"
        assert not sara.taken("desk_say")


async def test_staff_errors_are_clear(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        staff_agent(sp, "Yuki Tanaka") as yuki,
    ):
        await sara.send({"t": "call_next"})
        assert (await sara.expect("error"))["code"] == "not_on_duty"
        await sara.send({"t": "duty", "status": "available", "desk": "desk-9"})
        assert (await sara.expect("error"))["code"] == "unknown_desk"
        await sara.send({"t": "duty", "status": "available", "desk": "desk-1"})
        await sara.expect("duty")
        await yuki.send({"t": "duty", "status": "available", "desk": "desk-1"})
        err = await yuki.expect("error")
        assert err["code"] == "desk_taken" and SARA in err["msg"]
        await sara.send({"t": "call_next"})
        assert (await sara.expect("error"))["code"] == "queue_empty"
        await sara.send({"t": "close_case", "outcome": "resolved"})
        assert (await sara.expect("error"))["code"] == "no_case"
        await sara.send({"t": "take_ticket", "service": "nope", "lang": "sv"})
        assert (await sara.expect("error"))["code"] == "unknown_service"
        await sara.send({"t": "take_ticket", "service": "general", "lang": "xx"})
        assert (await sara.expect("error"))["code"] == "unsupported_language"


async def test_no_show_and_transfer_keeps_arrival(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path, features={"desks": {"call_timeout_s": 0.5}}) as sp,
        staff_agent(sp) as sara,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
        AgentClient(ws_url(sp), name="Cy") as cy,
    ):
        await sara.send({"t": "duty", "status": "available", "desk": "desk-2"})
        await sara.expect("duty")
        await ada.send({"t": "take_ticket", "service": "general", "lang": "sv"})
        await ada.expect("ticket")
        await sara.send({"t": "call_next"})
        await ada.expect("called")
        await sara.expect("case", status="called")
        # Ada does not respond: no-show.
        assert (await ada.expect("ticket", status="no_show", timeout=5))["outcome"] == "no_show"
        assert (await sara.expect("case", status="no_show"))["ticket"] == "A-001"
        # Bo arrives for registration, then Cy for benefits; Bo is transferred to
        # benefits and stays ahead of Cy there.
        await bo.send({"t": "take_ticket", "service": "registration", "lang": "sv"})
        await bo.expect("ticket")
        await asyncio.sleep(0.05)
        await cy.send({"t": "take_ticket", "service": "benefits", "lang": "sv"})
        assert (await cy.expect("ticket"))["position"] == 1
        await sara.send({"t": "call_next"})
        assert (await sara.expect("case", status="called"))["citizen"] == bo.id
        await bo.send({"t": "respond"})
        await bo.expect("call")
        await sara.send({"t": "transfer", "service": "benefits"})
        moved = await bo.expect("ticket", status="waiting", service="benefits")
        assert moved["position"] == 1 and moved["ticket"] == "B-001"
        assert (await cy.expect("ticket", position=2))["ticket"] == "C-001"
        assert not (await bo.expect("call", active=False))["active"]
        types = [e["type"] for e in await desk_events(sp)]
        assert types.count("no_show") == 1 and types.count("transferred") == 1


async def test_auto_call(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        AgentClient(ws_url(sp), name="Ada") as ada,
    ):
        await sara.send({"t": "duty", "status": "available", "desk": "desk-2"})
        await sara.expect("duty")
        await sara.send({"t": "auto_call", "on": True})
        assert (await sara.expect("duty", auto=True))["auto"]
        await ada.send({"t": "take_ticket", "service": "general", "lang": "en"})
        await ada.expect("called")
        assert (await sara.expect("case"))["citizen"] == ada.id


async def test_serving_is_announced_to_both_sides(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        AgentClient(ws_url(sp), name="Ada") as ada,
    ):
        await open_desk_call(sara, ada)
        assert (await ada.expect("ticket", status="serving"))["desk"] == "desk-2"
        assert (await sara.expect("case", status="serving"))["citizen"] == ada.id


async def test_leaving_for_good_gives_up_the_ticket(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp, AgentClient(ws_url(sp), name="Bo") as bo:
        ada = AgentClient(ws_url(sp), name="Ada")
        await ada.connect()
        await ada.send({"t": "take_ticket", "service": "general", "lang": "sv"})
        await ada.expect("ticket")
        await bo.send({"t": "take_ticket", "service": "general", "lang": "sv"})
        assert (await bo.expect("ticket"))["position"] == 2
        await ada.send({"t": "bye"})
        await ada.wait_closed()
        assert (await bo.expect("ticket", position=1))["status"] == "waiting"
        assert [e["type"] for e in await desk_events(sp)][-1] == "left"


async def test_staff_who_reconnect_keep_duty_and_case(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp, AgentClient(ws_url(sp), name="Ada") as ada:
        token = mint("staff", SARA)
        sara = AgentClient(ws_url(sp), name="x", token=token)
        await sara.connect()
        await open_desk_call(sara, ada)
        await sara.abort()  # the staff member's network drops
        back = AgentClient(ws_url(sp), name="x", token=token, resume=sara.resume)
        await back.connect()
        duty = await back.expect("duty")
        assert duty["status"] == "available" and duty["desk"] == "desk-2"
        assert (await back.expect("case"))["citizen"] == ada.id
        assert (await back.expect("call", active=True))["desk"] == "desk-2"
        await back.send({"t": "close_case", "outcome": "resolved"})
        assert (await ada.expect("ticket", status="done"))["outcome"] == "resolved"
        await back.close()


async def test_transfer_notes_reach_the_next_staff_member(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        staff_agent(sp, "Yuki Tanaka") as yuki,  # benefits + general; ja, en, sv
        AgentClient(ws_url(sp), name="Ada") as ada,
    ):
        await open_desk_call(sara, ada)
        await sara.send(
            {"t": "transfer", "service": "benefits", "notes": "Needs housing benefit form"}
        )
        moved = await sara.expect("case", status="waiting")
        assert moved["ticket"] == "A-001" and moved["service"] == "benefits"
        await yuki.send({"t": "duty", "status": "available", "desk": "desk-3"})
        await yuki.expect("duty")
        await yuki.send({"t": "call_next"})
        case = await yuki.expect("case", status="called")
        assert case["ticket"] == "A-001"
        assert case["notes"] == ["Sara Lind: Needs housing benefit form"]
        assert not any("housing" in repr(m) for m in ada.messages)


async def test_invite_refuses_someone_in_another_call(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        staff_agent(sp, "Jonas Weber") as jonas,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        await open_desk_call(sara, ada)
        await open_desk_call(jonas, bo, desk="desk-4", service="permits", lang="de")
        await sara.send({"t": "invite", "id": bo.id})
        err = await sara.expect("error")
        assert err["code"] == "busy" and "Bo" in err["msg"]
