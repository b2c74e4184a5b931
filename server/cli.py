"""``servicepoint`` (or ``python -m server``): run the server, or mint a token.

servicepoint run [--host H] [--port P] [--data-dir D] [--redis-url URL]
servicepoint token --role staff --name "Alice Andersson" [--sub alice.andersson] [--hours 12]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from server.config import from_env
from server.identity import PRIVILEGED_ROLES, Keyring


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
    from server.app import ServicePoint
    from server.plug import StartupError

    main_coro = ServicePoint(cfg).serve_forever()
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
