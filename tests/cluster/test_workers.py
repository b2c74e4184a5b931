"""``servicepoint run --workers 2``: one port (SO_REUSEPORT), one embedded Redis, two
worker processes in one space; a worker killed is started again; SIGTERM stops all."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from agents.client import AgentClient
from tests.cluster.harness import ROOT, free_port, gauge, http_get, http_ok, poll
from tests.server.harness import SECRET


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def pids(data: Path) -> list[int]:
    try:
        return [int(line) for line in (data / "workers.pid").read_text().split()]
    except FileNotFoundError:
        return []


async def test_two_workers_share_one_port_and_one_space_and_are_restarted(
    tmp_path: Path,
) -> None:
    port = free_port()
    data = tmp_path / "var"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SERVICEPOINT_SECRET": SECRET}
    for name in ("REDIS_URL", "SERVICEPOINT_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    log_path = tmp_path / "workers.log"
    with log_path.open("ab") as log:
        sup = subprocess.Popen(
            [
                *(sys.executable, "-m", "server", "run", "--workers", "2", "--no-greeter"),
                *("--port", str(port), "--data-dir", str(data)),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    http = f"http://127.0.0.1:{port}"
    clients: list[AgentClient] = []
    try:
        await poll(lambda: len(pids(data)) == 2 and http_ok(http + "/healthz"), "no workers")
        first = pids(data)
        assert all(alive(p) for p in first)
        # Citizens until the kernel has given some to each worker: then a worker
        # holds replicas of the other's avatars (the shared /metrics sums both).
        while gauge(http_get(http + "/metrics"), "servicepoint_cluster_replicas") == 0:
            assert len(clients) < 30, "every connection went to one worker"
            cl = AgentClient(f"ws://127.0.0.1:{port}/ws", name=f"Guest {len(clients)}")
            await cl.connect()
            clients.append(cl)
            await asyncio.sleep(0.3)
        n = len(clients)
        for cl in clients:
            await cl.wait_for(lambda cl=cl: len(cl.others) == n - 1)  # type: ignore[misc]
        assert gauge(http_get(http + "/metrics"), "servicepoint_connections") == n

        os.kill(first[0], signal.SIGKILL)
        await poll(
            lambda: len(pids(data)) == 2 and first[0] not in pids(data),
            "the killed worker was not started again",
        )
        await poll(lambda: http_ok(http + "/healthz"), "no worker answers after the restart")
        # The killed worker's citizens were cut off; the others see them leave
        # (the lease) and go on in one space with the restarted worker.
        await poll(
            lambda: any(cl.closed is not None and cl.closed.done() for cl in clients),
            "no citizen was cut off",
        )
        survivors = [cl for cl in clients if cl.closed is not None and not cl.closed.done()]
        assert survivors, "every citizen was on the killed worker"
        for cl in survivors:
            await cl.wait_for(lambda cl=cl: len(cl.others) == len(survivors) - 1)  # type: ignore[misc]
        late = AgentClient(f"ws://127.0.0.1:{port}/ws", name="Late")
        await late.connect()
        clients.append(late)
        await late.wait_for(lambda: len(late.others) == len(survivors))
    finally:
        for cl in clients:
            await cl.abort()
        sup.send_signal(signal.SIGTERM)
        try:
            code = sup.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sup.kill()
            raise
        finally:
            print(log_path.read_text(errors="replace")[-8000:])
    assert code == 0
    last = pids(data)
    assert last == []  # the pid file is gone with the workers
    await poll(lambda: not any(alive(p) for p in first), "a worker outlived the supervisor")
    assert not http_ok(http + "/healthz")
