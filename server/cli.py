"""``servicepoint`` (or ``python -m server``): run the server, or mint a token.

servicepoint run [--host H] [--port P] [--data-dir D] [--redis-url URL] [--no-greeter] [--workers N]
servicepoint token --role staff --name "Alice Andersson" [--sub alice.andersson] [--hours 12]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from server.config import from_env
from server.identity import PRIVILEGED_ROLES, Keyring

if TYPE_CHECKING:
    from server.app import ServicePoint
    from server.config import Config

log = logging.getLogger("server.cli")

ROOT = Path(__file__).resolve().parents[1]
GREETER_TOKEN_ENV = "SERVICEPOINT_GREETER_TOKEN"
"""Where ``agents/greeter.py`` reads its bot token (the environment: argv is readable by all)."""
GREETER_REPLACED = 3
"""The greeter's exit status when a newer greeter took over: it is not restarted."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="servicepoint", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run", help="start the server (the default)")
    run.add_argument("--host", help="address to bind (env HOST, default 127.0.0.1)")
    run.add_argument("--port", type=int, help="port (env PORT, default 8000; 0 picks one)")
    run.add_argument("--data-dir", type=Path, help="embedded Redis data (default ./var)")
    run.add_argument("--redis-url", help="use this Redis instead of the embedded one")
    run.add_argument("--world", type=Path, dest="world_path", help="world layout TOML")
    run.add_argument("--tick-hz", type=int, help="simulation ticks per second (default 20)")
    run.add_argument("--log-level", default="INFO")
    run.add_argument(
        "--greeter",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start the automated greeter (agents/greeter.py) once the server listens",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (SO_REUSEPORT) and one Redis (default 1)",
    )
    tok = sub.add_parser("token", help="mint a signed role token")
    tok.add_argument("--role", required=True, choices=PRIVILEGED_ROLES)
    tok.add_argument("--name", required=True, help="display name the token grants")
    tok.add_argument(
        "--sub", help="the person's stable identity (default: from the name, 'sara.lind')"
    )
    tok.add_argument("--hours", type=float, default=12.0, help="validity (default 12)")
    tok.add_argument("--data-dir", type=Path, help="where the generated secret lives")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "token":
        cfg = from_env(data_dir=args.data_dir)
        ring = Keyring(cfg.ensure_secret(), issuer=cfg.token_issuer, audience=cfg.token_audience)
        print(ring.mint(args.role, args.name, args.sub, ttl_s=args.hours * 3600))
        return 0
    overrides = {}
    if args.command == "run":
        overrides = {
            k: getattr(args, k)
            for k in ("host", "port", "data_dir", "redis_url", "world_path", "tick_hz")
        }
    logging.basicConfig(
        level=getattr(args, "log_level", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)
    cfg = from_env(**overrides)
    raise_open_files()
    if args.command == "run" and args.workers != 1:
        return run_workers(cfg, args)
    from server.app import ServicePoint
    from server.plug import StartupError

    sp = with_greeter(cfg) if getattr(args, "greeter", True) else ServicePoint(cfg)
    main_coro = sp.serve_forever()
    try:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
            asyncio.run(main_coro)
        else:
            uvloop.run(main_coro)
    except StartupError as exc:
        print(f"servicepoint: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


def raise_open_files() -> int:
    """Every client is an open socket: lift the soft limit on open files to the hard one
    (a system's default soft limit, often 1,024, would refuse connections long before
    the capacity). Returns the limit now in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or hard > soft):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            logging.getLogger(__name__).warning("could not raise the open-files limit")
    logging.getLogger(__name__).info("open files allowed: %s", soft)
    return int(soft)


def run_workers(cfg: Config, args: argparse.Namespace) -> int:
    """``run --workers N``: the `Supervisor` of N worker processes."""
    from server.workers import Supervisor, WorkersError

    extra: list[str] = []
    if args.world_path is not None:
        extra += ["--world", str(args.world_path)]
    if args.tick_hz is not None:
        extra += ["--tick-hz", str(args.tick_hz)]
    try:
        sup = Supervisor(cfg, args.workers, args.greeter, extra, log_level=args.log_level)
    except WorkersError as exc:
        print(f"servicepoint: cannot start: {exc}", file=sys.stderr)
        return 2
    return sup.run()


class GreeterProcess:
    """``python -m agents.greeter`` as a child of the server.

    Started once the server listens, with a freshly minted bot token in its
    environment; started again (with a new token, after a pause that grows to a
    minute) if it exits while the server runs, unless a newer greeter took over;
    stopped before the server stops.
    """

    def __init__(self, url: Callable[[], str], mint: Callable[[], str]) -> None:
        self.url = url
        self.mint = mint
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._supervise(), name="greeter process")

    async def _supervise(self) -> None:
        pause = 1.0
        while not self._stopping:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "agents.greeter",
                "--url",
                self.url(),
                cwd=str(ROOT),
                env={**os.environ, GREETER_TOKEN_ENV: self.mint()},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
            )
            self.starts += 1
            code = await self.proc.wait()
            if self._stopping:
                return
            if code == GREETER_REPLACED:
                log.warning("the greeter stopped: a newer greeter serves")
                return
            log.warning("the greeter exited with status %s; starting it again", code)
            await asyncio.sleep(pause)
            pause = min(60.0, pause * 2)

    async def stop(self) -> None:
        self._stopping = True
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def with_greeter(config: Config) -> ServicePoint:
    """A server that starts the greeter process once it listens, and stops it first."""
    from server.app import ServicePoint

    class WithGreeter(ServicePoint):
        def __init__(self, config: Config) -> None:
            super().__init__(config)
            self.greeter = GreeterProcess(self.ws_url, self._bot_token)

        def _bot_token(self) -> str:
            return self.keyring.mint("bot", "Greeter", "greeter", ttl_s=24 * 3600)

        async def start(self) -> None:
            await super().start()
            await self.greeter.start()

        async def stop(self) -> None:
            await self.greeter.stop()
            await super().stop()

    return WithGreeter(config)
