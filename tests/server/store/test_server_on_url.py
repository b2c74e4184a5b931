"""The whole server on an external Redis (``REDIS_URL``), as production runs it."""

from __future__ import annotations

from pathlib import Path

from agents.client import AgentClient
from tests.server.harness import running_server, ws_url, zone_chat


async def test_server_runs_on_an_external_redis(tmp_path: Path, external_redis_url: str) -> None:
    async with running_server(tmp_path, redis_url=external_redis_url) as sp:
        async with AgentClient(ws_url(sp), name="Ada") as ada:
            await ada.chat("over an external Redis", scope="zone")
            await ada.expect("chat")
        assert not (tmp_path / "servicepoint.rdb").exists()  # nothing embedded was started
        lines = await zone_chat(sp, "lobby", 5)
        assert lines[-1]["text"] == "over an external Redis"
