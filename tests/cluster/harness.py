"""`cluster`: n real server processes sharing one embedded Redis, behind a real HAProxy.

Each backend is ``python -m server run`` on its own loopback address
(127.0.0.{2+i}) and free port, with ``SERVICEPOINT_CLUSTER=1``, the shared
``REDIS_URL`` and one ``SERVICEPOINT_SECRET`` (tokens verify on every process).
HAProxy (``haproxy -f cfg -db``) balances the WebSockets by least connections, in a
backend of their own so page loads never count against a server, and page loads
round-robin; both check ``GET /healthz``. Every process's output goes to a file under ``tmp_path``;
the files are printed when the block fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from server.store.redis_store import EmbeddedRedis
from tests.server.harness import SECRET

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = """\
global
    maxconn 2000
    stats socket {stats} mode 600 level admin

defaults
    mode http
    option http-server-close
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout tunnel 1h
    timeout check 3s
    timeout http-keep-alive 1s

frontend servicepoint
    bind 127.0.0.1:{port}
    use_backend sockets if {{ path /ws }}
    default_backend servers

# The WebSockets by how many each server holds (page loads never count against them)
backend sockets
    balance leastconn
    option httpchk GET /healthz
    http-check expect status 200
{sockets}

backend servers
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
{servers}
"""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return str(r.read().decode())


def gauge(metrics: str, name: str) -> float:
    """The value of the unlabelled sample ``name`` in a Prometheus text page."""
    for line in metrics.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == name:
            return float(parts[1])
    raise KeyError(name)


async def poll(check: object, what: str, tries: int = 300, pause: float = 0.1) -> None:
    """Call ``check()`` (sync, in a thread) until it is true; TimeoutError after ``tries``."""
    assert callable(check)
    for _ in range(tries):
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(pause)
    raise TimeoutError(what)


@dataclass
class Backend:
    index: int
    host: str
    port: int
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"s{self.index}"

    @property
    def http(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def healthy(self) -> None:
        def check() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"backend {self.name} exited with {self.process.returncode}")
            return http_ok(self.http + "/healthz")

        await poll(check, f"backend {self.name} did not become healthy")

    def metrics(self) -> str:
        return http_get(self.http + "/metrics")

    def kill(self) -> None:
        """SIGKILL the process and reap it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_log()

    async def restart(self) -> None:
        """Kill (if running), start again on the same address, wait until healthy."""
        self.kill()
        self.start()
        await self.healthy()

    def stop(self) -> None:
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class Cluster:
    url: str
    http: str
    backends: list[Backend]
    redis_socket: str
    stats_socket: Path

    def haproxy_status(self) -> dict[str, str]:
        """HAProxy's view of each backend server: name -> status (``UP``, ``DOWN``, ...)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.stats_socket))
            s.sendall(b"show stat\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        text = b"".join(chunks).decode().lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            r["svname"]: r["status"]
            for r in rows
            if r["pxname"] == "sockets" and r["svname"] not in ("BACKEND", "FRONTEND")
        }


def _dump(paths: list[Path]) -> None:
    for path in paths:
        if path.exists():
            print(f"===== {path.name} =====\n{path.read_text(errors='replace')[-20000:]}")


@contextlib.asynccontextmanager
async def cluster(tmp_path: Path, n: int = 2) -> AsyncIterator[Cluster]:
    """n backends, one embedded Redis, one HAProxy; all stopped at exit."""
    redis = EmbeddedRedis(tmp_path / "redis")
    backends: list[Backend] = []
    haproxy: subprocess.Popen[bytes] | None = None
    logs: list[Path] = []
    haproxy_log_file: IO[bytes] | None = None
    try:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SERVICEPOINT_CLUSTER": "1",
            "REDIS_URL": "unix://" + redis.socket_path,
            "SERVICEPOINT_SECRET": SECRET,
        }
        env.pop("SERVICEPOINT_REDIS_URL", None)
        env.pop("SERVICEPOINT_REUSE_PORT", None)
        for i in range(n):
            host = f"127.0.0.{2 + i}"
            port = free_port(host)
            argv = [
                sys.executable,
                "-m",
                "server",
                "run",
                "--host",
                host,
                "--port",
                str(port),
                "--no-greeter",
                "--data-dir",
                str(tmp_path / f"p{i}"),
            ]
            log_path = tmp_path / f"server{i}.log"
            logs.append(log_path)
            backends.append(Backend(i, host, port, argv, env, log_path))
        for b in backends:
            b.start()
        await asyncio.gather(*(b.healthy() for b in backends))

        port = free_port()
        stats = tmp_path / "haproxy.sock"
        servers = "\n".join(
            f"    server {b.name} {b.host}:{b.port} check inter 1s fall 2 rise 1" for b in backends
        )
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(HAPROXY_CFG.format(stats=stats, port=port, servers=servers, sockets=servers))
        haproxy_log = tmp_path / "haproxy.log"
        logs.append(haproxy_log)
        haproxy_log_file = haproxy_log.open("ab")
        haproxy = subprocess.Popen(
            ["haproxy", "-f", str(cfg), "-db"],
            stdin=subprocess.DEVNULL,
            stdout=haproxy_log_file,
            stderr=subprocess.STDOUT,
        )
        c = Cluster(
            url=f"ws://127.0.0.1:{port}/ws",
            http=f"http://127.0.0.1:{port}",
            backends=backends,
            redis_socket=redis.socket_path,
            stats_socket=stats,
        )

        def ready() -> bool:
            assert haproxy is not None
            if haproxy.poll() is not None:
                raise RuntimeError(f"haproxy exited with {haproxy.returncode}")
            try:
                status = c.haproxy_status()
            except OSError:
                return False
            return len(status) == n and all(s.startswith("UP") for s in status.values())

        await poll(ready, "haproxy did not see every backend up")
        yield c
    except BaseException:
        _dump(logs)
        raise
    finally:
        if haproxy is not None and haproxy.poll() is None:
            haproxy.terminate()
            try:
                haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                haproxy.kill()
                haproxy.wait()
        if haproxy_log_file is not None:
            haproxy_log_file.close()
        for b in backends:
            b.stop()
        redis.shutdown()
