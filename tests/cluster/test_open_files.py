"""``servicepoint run`` lifts its soft limit on open files to the hard one: started with
a soft limit of 256 (a system default would be 1,024), a real server process runs with
the hard limit, so it can hold more clients than the default would let it accept."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from tests.cluster.harness import ROOT, free_port, http_ok, poll
from tests.server.harness import SECRET


def open_files(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no open-files line")


def low_soft_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))


async def test_the_server_raises_its_open_files_limit(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SERVICEPOINT_SECRET": SECRET}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "server", "run", "--no-greeter", "--port", str(port)),
            *("--data-dir", str(tmp_path / "var")),
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=low_soft_limit,
    )
    try:
        await poll(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), "no server")
        soft, hard = open_files(proc.pid)
        assert hard > 256 and soft == hard
    finally:
        proc.terminate()
        proc.wait(30)
