"""Server configuration: defaults, then environment variables, then flags.

Every setting has a ``SERVICEPOINT_*`` environment variable (``HOST``,
``PORT`` and ``REDIS_URL`` are also read bare). ``docs/CONFIGURATION.md``
lists them all.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Config:
    """All knobs of one server process."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = field(default_factory=lambda: Path("var"))
    redis_url: str | None = None
    secret: str | None = None
    world_path: Path = field(default_factory=lambda: Path(__file__).parent / "data" / "world.toml")
    web_root: Path = field(default_factory=lambda: PROJECT_ROOT / "clients" / "web")
    tick_hz: int = 20
    interest_radius: float = 20.0
    interest_k: int = 64
    interest_margin: float = 2.0
    chat_radius: float = 15.0
    max_speed: float = 4.0
    rate_per_s: float = 40.0
    rate_burst: float = 80.0
    flood_drops: int = 200
    max_errors: int = 20
    error_window_s: float = 10.0
    hello_timeout_s: float = 10.0
    resume_s: int = 60
    chat_history: int = 50
    call_timeout_s: float = 60.0
    voice_hosts: str = ""
    """Comma-separated IP addresses for WebRTC host candidates; empty: every interface."""
    capacity: int = 4096
    max_entities: int = 20000
    send_buffer_limit: int = 256 * 1024
    slow_consumer_s: float = 2.0
    tcp_send_buffer: int = 0
    """SO_SNDBUF for client sockets; 0 keeps the kernel's autotuning."""
    shutdown_timeout_s: float = 5.0

    def ensure_secret(self) -> str:
        """The token secret: configured, or generated once and kept in ``data_dir``."""
        if self.secret:
            return self.secret
        path = self.data_dir / "secret"
        if path.exists():
            self.secret = path.read_text(encoding="utf-8").strip()
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.secret = secrets.token_urlsafe(32)
            path.write_text(self.secret + "\n", encoding="utf-8")
            path.chmod(0o600)
        return self.secret


def _coerce(kind: object, raw: str) -> object:
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    if kind in (Path, "Path"):
        return Path(raw)
    return raw


def from_env(env: Mapping[str, str] | None = None, **overrides: object) -> Config:
    """Build a `Config` from ``env`` (default: the process environment) and overrides.

    Overrides whose value is ``None`` are ignored, so argparse results can be
    passed straight through.
    """
    env = os.environ if env is None else env
    cfg = Config()
    for f in fields(cfg):
        raw = env.get("SERVICEPOINT_" + f.name.upper())
        if raw is None and f.name in ("host", "port", "redis_url"):
            raw = env.get(f.name.upper())
        if raw is not None and raw != "":
            kind = f.type if isinstance(f.type, type) else str(f.type).split(" |")[0]
            setattr(cfg, f.name, _coerce(kind, raw))
    for name, value in overrides.items():
        if value is not None:
            setattr(cfg, name, value)
    return cfg
