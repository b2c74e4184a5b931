"""Who someone is at the edge: citizen keys, and one live connection per role-token subject."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agents.client import AgentClient
from server.identity import Keyring
from tests.server.harness import SECRET, mint, running_server, staff_agent, ws_url


async def test_a_citizen_keeps_a_pseudonymous_identity(tmp_path: Path) -> None:
    ring = Keyring(SECRET)
    async with running_server(tmp_path) as sp:
        async with AgentClient(ws_url(sp), name="Ada") as ada:
            key = ada.citizen
            assert key is not None and ada.welcome is not None
            subject = ring.verify_citizen(key)
            person = sp.hub.get(ada.id)
            assert person is not None and person.subject == "citizen:" + subject
        # The same browser comes back with its key: the same identity, a new avatar.
        async with AgentClient(ws_url(sp), name="Ada", citizen=key) as again:
            assert again.citizen is not None
            assert ring.verify_citizen(again.citizen) == subject
            person = sp.hub.get(again.id)
            assert person is not None and person.subject == "citizen:" + subject
            # Nobody else ever sees a subject or a key.
            async with AgentClient(ws_url(sp), name="Bo") as bo:
                await again.chat("hello", scope="zone")
                await bo.expect("chat")
                assert not any(subject in repr(m) or key in repr(m) for m in bo.messages)


async def test_a_tampered_citizen_key_is_refused_with_a_fresh_identity(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    forged = Keyring("not-the-servers-secret-0123456789").mint_citizen()[0]
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="Eve", citizen=forged) as eve,
    ):
        err = eve.taken("error")
        assert err and err[0]["code"] == "bad_citizen_key" and err[0]["ref"] == "hello"
        assert eve.citizen is not None and eve.citizen != forged
        Keyring(SECRET).verify_citizen(eve.citizen)
        await eve.sync()
        assert eve.joined is not None  # the session went on
    assert forged not in caplog.text
    assert all(eve.citizen not in r.getMessage() for r in caplog.records)


async def test_a_second_connection_of_one_staff_subject_replaces_the_first(tmp_path: Path) -> None:
    """Defect: with one token on two connections, the desk answered the wrong one."""
    token = mint("staff", "Jonas Weber")
    async with running_server(tmp_path) as sp:
        first = AgentClient(ws_url(sp), name="x", token=token)
        await first.connect()
        await first.send({"t": "duty", "status": "available", "desk": "desk-4"})
        await first.expect("duty")
        async with (
            AgentClient(ws_url(sp), name="x", token=token) as second,
            AgentClient(ws_url(sp), name="Cy") as citizen,
        ):
            bye = await first.expect("bye")
            assert "another" in bye["reason"]
            code, _ = await first.wait_closed()
            assert code == 4009
            # The newest connection is the staff member, still on duty at desk-4.
            duty = await second.expect("duty")
            assert duty["status"] == "available" and duty["desk"] == "desk-4"
            await citizen.send({"t": "take_ticket", "service": "permits", "lang": "de"})
            await citizen.expect("ticket")
            queue = await second.expect("queue")
            while not queue["tickets"]:
                queue = await second.expect("queue")
            await second.send({"t": "call_next"})
            case = await second.expect("case")
            assert case["citizen"] == citizen.id
            called = await citizen.expect("called")
            assert called["desk"] == "desk-4"
            # Another staff member cannot take desk-4, and the same subject may.
            async with staff_agent(sp, "Sara Lind") as sara:
                await sara.send({"t": "duty", "status": "available", "desk": "desk-4"})
                assert (await sara.expect("error"))["code"] == "desk_taken"
            await citizen.send({"t": "respond"})
            call = await second.expect("call", active=True)
            assert {m["id"] for m in call["members"]} == {second.id, citizen.id}
            await second.send({"t": "close_case", "outcome": "resolved"})
            assert (await second.expect("case", status="done"))["ticket"] == case["ticket"]
        await first.close()
