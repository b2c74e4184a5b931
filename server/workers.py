"""``servicepoint run --workers N``: N server processes on one port, one Redis.

The `Supervisor` starts the embedded Redis (unless a Redis URL is configured),
then N children ``python -m server run ...`` with ``SERVICEPOINT_CLUSTER=1``,
``SERVICEPOINT_REUSE_PORT=1`` (each worker binds its own socket, the kernel
spreads new connections over them) and ``REDIS_URL`` pointing at the shared
Redis. A worker that dies is started again after a short pause; SIGINT or
SIGTERM stops the workers (SIGTERM, then SIGKILL after a timeout) and then Redis.

The live worker pids are kept in ``<data_dir>/workers.pid``, one a line.
Unless ``PROMETHEUS_MULTIPROC_DIR`` is already set, the workers share
``<data_dir>/metrics/`` (emptied at start), so ``/metrics`` on any of them adds
up all of them; a dead worker's live gauges are dropped.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.config import Config
    from server.store.redis_store import EmbeddedRedis

log = logging.getLogger("server.workers")

ROOT = Path(__file__).resolve().parents[1]
PID_FILE = "workers.pid"
STARTUP_FAILED = 2
"""A worker's exit status when it cannot start (bad configuration): not restarted."""
STOP_TIMEOUT_S = 20.0
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 10.0
HEALTHY_AFTER_S = 10.0
"""A worker that ran this long before dying is restarted after the shortest pause."""


class WorkersError(Exception):
    """The workers cannot be started as configured."""


@dataclass
class _Slot:
    index: int
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: float = BACKOFF_MIN_S
    restart_at: float | None = None
    restarts: int = field(default=0)


class Supervisor:
    """Run ``workers`` server processes of ``config`` on one port until signalled.

    ``greeter``: whether worker 0 starts the automated greeter (the others never do).
    ``extra_args``: more ``servicepoint run`` flags for every worker.
    """

    def __init__(
        self,
        config: Config,
        workers: int,
        greeter: bool = True,
        extra_args: list[str] | None = None,
        log_level: str = "INFO",
    ) -> None:
        if workers < 1:
            raise WorkersError("--workers must be at least 1")
        if workers > 1 and config.port == 0:
            raise WorkersError(
                "--workers > 1 needs a fixed --port: port 0 picks a different port per process"
            )
        self.config = config
        self.workers = workers
        self.greeter = greeter
        self.extra_args = list(extra_args or [])
        self.log_level = log_level
        self.slots = [_Slot(i) for i in range(workers)]
        self.redis: EmbeddedRedis | None = None
        self.redis_url: str = ""
        self.metrics_dir: str = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
        self._stop = threading.Event()

    @property
    def pid_file(self) -> Path:
        return self.config.data_dir / PID_FILE

    def _argv(self, index: int) -> list[str]:
        cfg = self.config
        argv = [
            sys.executable,
            "-m",
            "server",
            "run",
            "--host",
            cfg.host,
            "--port",
            str(cfg.port),
            "--data-dir",
            str(cfg.data_dir),
            "--log-level",
            self.log_level,
            "--greeter" if self.greeter and index == 0 else "--no-greeter",
        ]
        return argv + self.extra_args

    def _env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "SERVICEPOINT_CLUSTER": "1",
            "SERVICEPOINT_REUSE_PORT": "1",
            "REDIS_URL": self.redis_url,
            "SERVICEPOINT_REDIS_URL": self.redis_url,
            "PROMETHEUS_MULTIPROC_DIR": self.metrics_dir,
        }
        if self.config.secret:
            env["SERVICEPOINT_SECRET"] = self.config.secret
        return env

    def _spawn(self, slot: _Slot) -> None:
        # Its own process group: a Ctrl-C in the terminal reaches the supervisor only,
        # which then stops each worker once (SIGTERM), so they shut down gracefully.
        slot.proc = subprocess.Popen(
            self._argv(slot.index),
            cwd=str(ROOT),
            env=self._env(),
            stdin=subprocess.DEVNULL,
            process_group=0,
        )
        slot.started = time.monotonic()
        slot.restart_at = None
        log.info("worker %d started (pid %d)", slot.index, slot.proc.pid)
        self._write_pids()

    def _write_pids(self) -> None:
        pids = [str(s.proc.pid) for s in self.slots if s.proc is not None and s.proc.poll() is None]
        tmp = self.pid_file.with_suffix(".tmp")
        tmp.write_text("".join(p + "\n" for p in pids), encoding="utf-8")
        tmp.replace(self.pid_file)

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if signum is not None:
            log.info("signal %d: stopping the workers", signum)
        self._stop.set()

    def run(self) -> int:
        """Start Redis and the workers, supervise until signalled; the exit status."""
        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        # One secret for all workers (generated here once, not raced by N processes).
        cfg.ensure_secret()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.request_stop)
        if not self.metrics_dir:
            metrics = cfg.data_dir / "metrics"
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir()
            self.metrics_dir = str(metrics)
        if cfg.redis_url:
            self.redis_url = cfg.redis_url
        else:
            from server.store.redis_store import EmbeddedRedis

            self.redis = EmbeddedRedis(cfg.data_dir)
            self.redis_url = "unix://" + self.redis.socket_path
            log.info("embedded redis on %s (pid %d)", self.redis.socket_path, self.redis.pid)
        status = 0
        try:
            for slot in self.slots:
                self._spawn(slot)
            print(
                f"servicepoint: {self.workers} workers on http://{cfg.host}:{cfg.port}/",
                flush=True,
            )
            status = self._supervise()
        finally:
            self._stop_workers()
            if self.redis is not None:
                self.redis.shutdown()
                self.redis = None
            self.pid_file.unlink(missing_ok=True)
        return status

    def _supervise(self) -> int:
        while not self._stop.wait(0.2):
            now = time.monotonic()
            for slot in self.slots:
                proc = slot.proc
                if proc is not None and proc.poll() is not None:
                    code = proc.returncode
                    slot.proc = None
                    self._write_pids()
                    self._forget_metrics(proc.pid)
                    if code == STARTUP_FAILED:
                        log.error("worker %d cannot start (status %d): stopping", slot.index, code)
                        return STARTUP_FAILED
                    if now - slot.started >= HEALTHY_AFTER_S:
                        slot.backoff = BACKOFF_MIN_S
                    log.warning(
                        "worker %d (pid %d) exited with status %s; starting it again in %.1fs",
                        slot.index,
                        proc.pid,
                        code,
                        slot.backoff,
                    )
                    slot.restart_at = now + slot.backoff
                    slot.backoff = min(BACKOFF_MAX_S, slot.backoff * 2)
                if slot.proc is None and slot.restart_at is not None and now >= slot.restart_at:
                    slot.restarts += 1
                    self._spawn(slot)
        return 0

    def _forget_metrics(self, pid: int) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, self.metrics_dir)  # type: ignore[no-untyped-call]

    def _stop_workers(self) -> None:
        procs = [s.proc for s in self.slots if s.proc is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not stop in time: killing it", proc.pid)
                proc.kill()
                proc.wait()
        for slot in self.slots:
            slot.proc = None
