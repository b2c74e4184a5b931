"""Roles: guests are citizens; privileged messages are checked on the server."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from agents.client import AgentClient
from server.identity import Keyring
from tests.server.harness import mint, running_server, staff_agent, ws_url


async def test_guest_cannot_send_privileged_messages(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        await ada.send({"t": "announce", "text": "I am the mayor"})
        err = await ada.expect("error")
        assert err["code"] == "forbidden" and err["ref"] == "announce"
        await ada.send({"t": "kick", "id": bo.id})
        err = await ada.expect("error")
        assert err["code"] == "forbidden" and err["ref"] == "kick"
        await ada.send({"t": "ping", "n": 7})
        await ada.expect("pong", n=7)  # still connected and served
        assert not bo.taken("announce")


async def test_staff_announces_and_cannot_kick(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp, "Sara Staff") as sara,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        assert sara.welcome is not None and sara.welcome["role"] == "staff"
        assert sara.joined is not None and sara.joined["name"] == "Sara Staff"
        await bo.wait_for(lambda: sara.id in bo.others)
        assert bo.others[sara.id].role == "staff"
        await sara.send({"t": "announce", "text": "Desk 2 opens in five minutes."})
        note = await bo.expect("announce")
        assert note["role"] == "staff" and note["name"] == "Sara Staff"
        await sara.send({"t": "kick", "id": bo.id})
        assert (await sara.expect("error"))["code"] == "forbidden"


async def test_host_kicks(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp, "Hana Host", role="host") as hana,
        AgentClient(ws_url(sp), name="Troll") as troll,
    ):
        await hana.send({"t": "kick", "id": 999999})
        assert (await hana.expect("error"))["code"] == "unknown_entity"
        await hana.send({"t": "kick", "id": troll.id, "reason": "spam"})
        code, _ = await troll.wait_closed()
        assert code == 4004
        assert (await troll.expect("bye"))["reason"] == "spam"
        await hana.wait_for(lambda: troll.id not in hana.others)
        # A kicked avatar cannot come back with its resume token.
        async with AgentClient(ws_url(sp), name="Troll", resume=troll.resume) as again:
            assert again.welcome is not None and not again.welcome["resumed"]


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        Keyring("another-secret-0123456789abcdef-0123").mint("admin", "Eve"),
        mint("admin", "Old", ttl_s=10, now=time.time() - 3600),
    ],
    ids=["malformed", "forged", "expired"],
)
async def test_bad_tokens_are_refused(tmp_path: Path, token: str) -> None:
    async with running_server(tmp_path) as sp:
        client = AgentClient(ws_url(sp), name="Eve", token=token)
        with pytest.raises(ConnectionError):
            await client.connect()
        code, _ = await client.wait_closed()
        assert code == 4005
        assert client.stats.errors[0]["code"] == "bad_token"


async def test_tokens_are_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = mint("admin", "Ari Admin")
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="x", token=token) as ari,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        await ari.send({"t": "kick", "id": bo.id})
        await bo.wait_closed()
    assert token not in caplog.text
    assert token.split(".")[1] not in caplog.text
