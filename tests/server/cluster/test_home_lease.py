"""The feature home's lease when a process starts beside a running cluster.

CI once starved the home (a process restarting beside it took 46 s to start on two
cores) until its key ran out; the starting process took the missing key at once, and
the home, slow but alive, found another holder and stopped. Now a process that starts
while others run waits a whole lease like any non-holder, and the home takes its key
back first."""

from __future__ import annotations

import asyncio
from pathlib import Path

from redis.asyncio import Redis

from server.cluster.home import HOME_KEY, FeatureHome
from server.store.redis_store import EmbeddedRedis
from tests.server.cluster.conftest import shared_space


async def _nothing() -> None:
    return None


async def test_a_process_starting_beside_a_running_home_does_not_take_its_missing_key(
    tmp_path: Path,
) -> None:
    async with shared_space(tmp_path) as (a, b):
        assert a.home is not None and b.home is not None
        assert a.home.is_home and not b.home.is_home
        redis = a.home.redis
        newcomer = FeatureHome(
            redis, "newcomer", a.home.lease_s, on_gain=_nothing, on_loss=lambda: None
        )
        # The home's key runs out (as when the home is starved past its lease) just as
        # a process starts.
        await redis.delete(HOME_KEY)
        assert not await newcomer.claim()
        assert newcomer.holder is None or newcomer.holder == a.home.origin
        # The home, not dead, takes its key back at its next renewal, and stays home.
        async with asyncio.timeout(10):
            while (held := await redis.get(HOME_KEY)) is None:
                await asyncio.sleep(0.05)
        assert held.decode() == a.origin
        assert a.home.is_home and a.home.ready


async def test_a_process_starting_alone_takes_the_missing_key_at_once(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path / "redis")
    redis = Redis(unix_socket_path=str(embedded.socket_path))
    try:
        first = FeatureHome(redis, "first", 5.0, on_gain=_nothing, on_loss=lambda: None)
        assert await first.claim() and first.is_home
        assert await redis.get(HOME_KEY) == b"first"
        second = FeatureHome(redis, "second", 5.0, on_gain=_nothing, on_loss=lambda: None)
        assert not await second.claim() and second.holder == "first"
    finally:
        await redis.aclose()
        embedded.shutdown()
