"""Two real server processes' worth of `ServicePoint` sharing one real embedded Redis."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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
