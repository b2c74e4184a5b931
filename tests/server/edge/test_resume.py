"""Resume: a client that comes back within the window gets its avatar back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agents.client import AgentClient
from tests.server.harness import mint, running_server, ws_url


async def test_resume_after_connection_loss(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        ada = AgentClient(ws_url(sp), name="Ada", color=0x3366CC)
        await ada.connect()
        first_id = ada.id
        await ada.move(ada.x + 1.0, ada.z)
        await bo.wait_for(
            lambda: first_id in bo.others and abs(bo.others[first_id].x - ada.x) < 0.02
        )
        spot = (ada.x, ada.z)
        await ada.abort()  # the network drops; no bye
        await bo.wait_for(lambda: first_id not in bo.others)
        back = AgentClient(ws_url(sp), name="ignored", resume=ada.resume)
        await back.connect()
        assert back.welcome is not None and back.welcome["resumed"] is True
        assert back.id == first_id
        assert back.joined is not None and back.joined["name"] == "Ada"
        assert abs(back.x - spot[0]) < 0.01 and abs(back.z - spot[1]) < 0.01
        await bo.wait_for(lambda: first_id in bo.others)
        assert bo.others[first_id].name == "Ada"
        # The token rotates: the old one is spent.
        assert back.resume != ada.resume
        await back.close()


async def test_resume_expires(tmp_path: Path) -> None:
    async with running_server(tmp_path, resume_s=1) as sp:
        ada = AgentClient(ws_url(sp), name="Ada")
        await ada.connect()
        await ada.abort()
        await asyncio.sleep(2.2)
        async with AgentClient(ws_url(sp), name="Ada", resume=ada.resume) as again:
            assert again.welcome is not None and again.welcome["resumed"] is False
            assert again.id != ada.id


async def test_bye_forgets_the_avatar(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        ada = AgentClient(ws_url(sp), name="Ada")
        await ada.connect()
        await ada.send({"t": "bye"})
        code, _ = await ada.wait_closed()
        assert code == 1000
        async with AgentClient(ws_url(sp), name="Ada", resume=ada.resume) as again:
            assert again.welcome is not None and not again.welcome["resumed"]


async def test_resume_takes_over_a_half_open_connection(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        ada = AgentClient(ws_url(sp), name="Ada")
        await ada.connect()
        async with AgentClient(ws_url(sp), name="x", resume=ada.resume) as again:
            assert again.welcome is not None and again.welcome["resumed"]
            assert again.id == ada.id
            code, _ = await ada.wait_closed()
            assert code == 4009
            assert len(sp.space) == 1


async def test_graceful_shutdown_then_resume_after_restart(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        ada = AgentClient(ws_url(sp), name="Ada")
        await ada.connect()
        await ada.move(ada.x + 1.0, ada.z)
        await ada.chat("before the restart", scope="zone")
        await ada.expect("chat")
        spot, first_id = (ada.x, ada.z), ada.id
        await sp.stop()
        code, _ = await ada.wait_closed()
        assert code == 1001  # going away
        assert (await ada.expect("bye"))["reason"] == "server shutting down"
    async with running_server(tmp_path) as sp2:
        async with AgentClient(ws_url(sp2), name="x", resume=ada.resume) as back:
            assert back.welcome is not None and back.welcome["resumed"]
            assert back.id == first_id
            assert abs(back.x - spot[0]) < 0.01
            history = await back.expect("history")
            assert [i["text"] for i in history["items"]] == ["before the restart"]
        async with AgentClient(ws_url(sp2), name="New") as new:
            assert new.id > first_id  # ids never repeat across restarts


async def test_a_kicked_avatar_cannot_be_resumed_during_the_close(tmp_path: Path) -> None:
    """Regression: the resume token stayed live until the close handshake ended."""
    async with running_server(tmp_path) as sp:
        host = AgentClient(ws_url(sp), name="x", token=mint("host", "Hanne"))
        mallory = AgentClient(ws_url(sp), name="Mallory")
        await host.connect()
        await mallory.connect()
        token = mallory.resume
        await host.send({"t": "kick", "id": mallory.id})
        await mallory.expect("bye")
        again = AgentClient(ws_url(sp), name="Mallory", resume=token)
        await again.connect()
        assert again.welcome is not None and not again.welcome["resumed"]
        assert again.joined is not None and again.id != mallory.id
        await again.close()
        await mallory.close()
        await host.close()


async def test_a_resume_token_of_someone_else_leaves_them_alone(tmp_path: Path) -> None:
    """Regression: presenting another identity's token threw its live holder out."""
    async with running_server(tmp_path) as sp:
        ada = AgentClient(ws_url(sp), name="Ada")
        await ada.connect()
        eve = AgentClient(ws_url(sp), name="Eve")
        await eve.connect()
        thief = AgentClient(ws_url(sp), name="Eve", resume=ada.resume, citizen=eve.citizen)
        await thief.connect()
        assert thief.welcome is not None and not thief.welcome["resumed"]
        await ada.sync()  # Ada is still connected, still herself
        assert ada.closed is not None and not ada.closed.done()
        assert ada.id in sp.space.by_id
        for c in (thief, eve, ada):
            await c.close()


async def test_a_staff_avatar_comes_back_only_with_its_token(tmp_path: Path) -> None:
    """Regression: a staff resume without the token lost the identity and kept the role."""
    async with running_server(tmp_path) as sp:
        sara = AgentClient(ws_url(sp), name="x", token=mint("staff", "Sara Lind"))
        await sara.connect()
        await sara.abort()
        bare = AgentClient(ws_url(sp), name="Sara", resume=sara.resume)
        await bare.connect()
        assert bare.welcome is not None and not bare.welcome["resumed"]
        assert bare.welcome["role"] == "citizen"
        await bare.close()


async def test_a_resume_racing_the_previous_connections_clean_up_waits_for_it(
    tmp_path: Path,
) -> None:
    """Regression: a resume during the old connection's clean-up left a ghost avatar."""
    async with running_server(tmp_path) as sp:
        assert sp.edge is not None
        dispatch = sp.edge.dispatch
        original = dispatch.left

        async def slow_left(person: Any, for_good: bool) -> None:
            await asyncio.sleep(0.5)  # e.g. closing a voice peer connection
            await original(person, for_good)

        dispatch.left = slow_left  # type: ignore[method-assign]
        ada = AgentClient(ws_url(sp), name="Ada")
        await ada.connect()
        first_id = ada.id
        await ada.abort()
        await asyncio.sleep(0.1)  # the server is now inside the slow clean-up
        back = AgentClient(ws_url(sp), name="Ada", resume=ada.resume)
        await back.connect()
        assert back.welcome is not None and back.welcome["resumed"] and back.id == first_id
        await back.sync()
        assert int(sp.space.active.sum()) == 1  # one avatar, not a ghost beside it
        again = AgentClient(ws_url(sp), name="Ada", resume=ada.resume)  # spent: one-time
        await again.connect()
        assert again.welcome is not None and not again.welcome["resumed"]
        await again.close()
        await back.close()
