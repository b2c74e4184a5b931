"""Server configuration: defaults, then environment variables, then flags or code.

The core settings are `Config`; every one is read from ``SERVICEPOINT_<NAME>``
(``HOST``, ``PORT`` and ``REDIS_URL`` are also read bare, the prefixed name
winning). Each feature keeps its own section, a `FeatureSettings` subclass with
its own prefix, loaded by `load_section`. Values are validated by pydantic:
``"false"``/``"0"``/``"no"`` are false, and a value out of range is refused with
a `pydantic.ValidationError` naming the field.

``docs/CONFIGURATION.md`` holds tables generated from the models by
`render_docs` / `splice_docs` (``python -m server.config --docs`` prints the
core table).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

BEGIN_MARKER = "<!-- BEGIN GENERATED: python -m server.config --docs -->"
END_MARKER = "<!-- END GENERATED -->"

# The environment the settings being built read. Empty unless `load_section` sets it,
# so a direct ``Config(...)`` is defaults plus keywords only, as deterministic as a
# dataclass. A context variable, so concurrent loads with different mappings do not mix.
_NO_ENV: Mapping[str, str] = {}
_ENV: ContextVar[Mapping[str, str]] = ContextVar("servicepoint_settings_env", default=_NO_ENV)


class _EnvSource(EnvSettingsSource):
    """Environment source reading `_ENV` (or ``os.environ``), with bare names and exclusions."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = _ENV.get()
        return {
            (k if self.case_sensitive else k.lower()): v
            for k, v in env.items()
            if not (self.env_ignore_empty and v == "")
        }

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        cls = self.settings_cls
        if field_name in getattr(cls, "not_from_env", ()):
            return None, field_name, False
        value, key, complex_ = super().get_field_value(field, field_name)
        if value is None and field_name in getattr(cls, "bare_env", ()):
            bare = field_name if self.case_sensitive else field_name.lower()
            value = self.env_vars.get(bare)
        return value, key, complex_


class SettingsBase(BaseSettings):
    """Common base of `Config` and `FeatureSettings`: validated, strict about names.

    Sources, highest first: keyword arguments, then the environment given to
    `load_section` / `from_env` (``os.environ`` by default). Constructing a class
    directly reads no environment at all: defaults plus keywords only. No ``.env``
    or secrets files. Empty environment values count as unset. Unknown keyword
    arguments are refused.
    """

    model_config = SettingsConfigDict(
        extra="forbid",
        validate_default=True,
        env_ignore_empty=True,
        case_sensitive=False,
    )

    bare_env: ClassVar[frozenset[str]] = frozenset()
    """Fields also read from the environment without the prefix (the prefixed name wins)."""
    not_from_env: ClassVar[frozenset[str]] = frozenset()
    """Fields only settable from code, never from the environment."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _EnvSource(settings_cls)


class FeatureSettings(SettingsBase):
    """Base of one feature's settings section.

    Subclass with the feature's own prefix and fields, each with a range and a
    ``description`` (the doc text)::

        class ChatSettings(FeatureSettings):
            model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_CHAT_")
            radius: float = Field(default=15.0, gt=0, description="Reach of `near` chat, metres.")

    and load it with ``load_section(ChatSettings, cfg.features.get("chat"))`` (which
    reads ``os.environ``; ``ChatSettings(...)`` alone reads no environment).
    """


DEFAULT_RETENTION_DAYS: dict[str, float] = {
    "chat_lines": 30,
    "greeter_conversations": 1,
    "tickets": 400,
    "case_notes": 400,
    "survey_answers": 400,
    "event_questions": 180,
    "question_votes": 180,
    "moderation_reports": 400,
}
"""How long personal data is kept unless configured otherwise (``retention_days``):
a month of chat, a day of greeter talk, a year and a month for what a case or a
complaint may need, half a year for questions to live events."""


class Config(SettingsBase):
    """The core settings of one server process.

    ``Config(host=..., port=0, data_dir=..., secret=..., **kw)`` builds one from
    keywords over the defaults (no environment); `from_env` adds the environment.
    """

    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_")

    bare_env: ClassVar[frozenset[str]] = frozenset({"host", "port", "redis_url"})
    not_from_env: ClassVar[frozenset[str]] = frozenset({"features"})

    host: str = Field(default="127.0.0.1", description="Address to listen on (`--host`).")
    port: int = Field(
        default=8000, ge=0, le=65535, description="Port; 0 picks a free one (`--port`)."
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Embedded Redis data (append-only, fsync on every write) and the"
        " generated token secret (`--data-dir`).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Use this Redis instead of the embedded one, e.g. `redis://host:6379/0`"
        " (`--redis-url`).",
    )
    secret: str | None = Field(
        default=None,
        min_length=32,
        description="Secret that signs role tokens and citizen keys (HS256: at least 32"
        " characters). Unset: generated once into `<data_dir>/secret` (mode 0600).",
    )
    previous_secrets: str = Field(
        default="",
        description="Comma-separated older token secrets that still verify, for rotating `secret`.",
    )
    token_issuer: str = Field(
        default="servicepoint", description="Issuer written into and required of role tokens."
    )
    token_audience: str = Field(
        default="servicepoint", description="Audience written into and required of role tokens."
    )
    allowed_origins: str = Field(
        default="",
        description="Comma-separated extra origins allowed to open the WebSocket; empty:"
        " only the server's own.",
    )
    world_path: Path = Field(
        default=Path(__file__).parent / "data" / "world.toml",
        description="The world layout TOML (`--world`).",
    )
    web_root: Path = Field(
        default=PROJECT_ROOT / "clients" / "web", description="Directory served as the web client."
    )
    tick_hz: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Simulation ticks (and state frames) per second (`--tick-hz`).",
    )
    near_m: float = Field(
        default=6.0,
        ge=0,
        description="State frames: avatars within this many metres (conversation distance)"
        " are sent every tick; farther ones every 2, 4 or 8 ticks (each band doubling the"
        " distance), the stage speaker always every tick.",
    )
    frame_encoding: Literal["delta", "full"] = Field(
        default="delta",
        description="State frames: `delta` (distance rates, unchanged avatars left out, small"
        " moves as int8 deltas) or `full` (every avatar in view, every tick; for comparison).",
    )
    interest_radius: float = Field(
        default=20.0,
        gt=0,
        description="An avatar enters an observer's view within this many metres.",
    )
    interest_k: int = Field(
        default=64, ge=1, description="At most this many avatars in one view (the nearest)."
    )
    interest_margin: float = Field(
        default=2.0, ge=0, description="Hysteresis: an avatar leaves only beyond radius + margin."
    )
    max_speed: float = Field(
        default=4.0,
        gt=0,
        description="Fastest an avatar may move, m/s (a one-second budget absorbs jitter).",
    )
    rate_per_s: float = Field(
        default=40.0, gt=0, description="Messages per second a connection may send on average."
    )
    rate_burst: float = Field(
        default=80.0, ge=1, description="Burst allowance of the per-connection rate limit."
    )
    flood_drops: int = Field(
        default=200,
        ge=1,
        description="Dropped messages within one second that count as a flood (close 4008).",
    )
    max_errors: int = Field(
        default=20, ge=1, description="Refused messages within `error_window_s` before close 4002."
    )
    error_window_s: float = Field(
        default=10.0, gt=0, description="Window for `max_errors`, seconds."
    )
    hello_timeout_s: float = Field(
        default=10.0, gt=0, description="Time a new connection has to send `hello` (close 4001)."
    )
    resume_s: int = Field(
        default=60,
        ge=0,
        description="How long a dropped avatar waits for its client to resume, seconds.",
    )
    capacity: int = Field(
        default=4096, ge=1, description="Initial entity table size (grows by doubling)."
    )
    max_entities: int = Field(
        default=20000, ge=1, description="Most avatars one process holds (`space_full` beyond)."
    )
    send_buffer_limit: int = Field(
        default=256 * 1024,
        ge=1,
        description="Bytes buffered for one client before its frames are skipped.",
    )
    slow_consumer_s: float = Field(
        default=2.0,
        gt=0,
        description="How long a client's buffer may stay full before close 4003.",
    )
    slow_consumer_close_s: float = Field(
        default=5.0,
        gt=0,
        description="How long a dropped slow consumer's queued close frame may wait before"
        " the connection is aborted.",
    )
    tcp_send_buffer: int = Field(
        default=0,
        ge=0,
        description="SO_SNDBUF for client sockets; 0 keeps the kernel's autotuning.",
    )
    cluster: bool = Field(
        default=False,
        description="Share one space with the other processes on the same Redis: publish this"
        " process's avatars on the bus and show theirs as replicas (`--workers` sets it).",
    )
    cluster_region_m: float = Field(
        default=64.0,
        gt=0,
        description="Cluster: the bus's regions are square grid cells this many metres wide;"
        " a process subscribes to the cells its observers can see.",
    )
    cluster_lease_s: float = Field(
        default=1.5,
        gt=0,
        description="Cluster: a remote process's avatars leave every view when it has not"
        " been heard from for this long (a killed process).",
    )
    cluster_sharded: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Cluster: the regions' channels on sharded pub/sub (SPUBLISH/SSUBSCRIBE);"
        " auto: when the server is Redis 7+ or Valkey (the embedded Redis 6.2 has only"
        " classic pub/sub). Every process on one Redis must agree.",
    )
    reuse_port: bool = Field(
        default=False,
        description="Listen with SO_REUSEPORT, each process on its own socket of one port"
        " (`--workers` sets it).",
    )
    shutdown_timeout_s: float = Field(
        default=5.0, ge=0, description="Graceful shutdown waits this long for connections to close."
    )
    retention_days: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_RETENTION_DAYS),
        description="Days each kind of personal data is kept (a feature's `personal_data`"
        " kinds, see docs/SECURITY.md); older records are deleted or anonymised by the"
        " retention job. JSON; replaces the defaults; 0 keeps a kind until erased.",
    )
    retention_every_s: float = Field(
        default=3600.0,
        gt=0,
        le=7 * 86400,
        description="How often the retention job runs, seconds (first run one interval"
        " after start).",
    )
    features: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-feature setting overrides from code, e.g."
        ' `{"desks": {"call_timeout_s": 1}}`; they win over the environment.',
    )

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


S = TypeVar("S", bound=SettingsBase)


@contextmanager
def _reading(env: Mapping[str, str]) -> Iterator[None]:
    token = _ENV.set(env)
    try:
        yield
    finally:
        _ENV.reset(token)


def load_section(
    cls: type[S],
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> S:
    """Build settings ``cls`` from ``overrides`` (keywords, winning) over ``env``.

    ``env`` defaults to ``os.environ``; an explicit mapping is read instead of it, so
    nothing from the process environment leaks in. ``None`` values in ``overrides``
    are passed on as they are. Raises `pydantic.ValidationError` on a bad value or
    an unknown name.
    """
    with _reading(os.environ if env is None else env):
        return cls(**dict(overrides or {}))


def from_env(env: Mapping[str, str] | None = None, **overrides: Any) -> Config:
    """Build a `Config` from ``env`` (default: the process environment) and overrides.

    Overrides whose value is ``None`` are ignored, so argparse results can be
    passed straight through. With an explicit ``env`` the process environment is
    not read at all.
    """
    return load_section(Config, {k: v for k, v in overrides.items() if v is not None}, env)


# ----------------------------------------------------------------------------
# Documentation generated from the models.


def env_names(cls: type[BaseSettings], name: str) -> list[str]:
    """The environment variables field ``name`` of ``cls`` is read from, first winning.

    Empty for fields listed in ``not_from_env``.
    """
    if name in getattr(cls, "not_from_env", ()):
        return []
    prefix = str(cls.model_config.get("env_prefix", ""))
    names = [(prefix + name).upper()]
    if name in getattr(cls, "bare_env", ()):
        names.append(name.upper())
    return names


def _default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if isinstance(value, Path):
        if value.is_absolute() and value.resolve().is_relative_to(PROJECT_ROOT):
            value = value.resolve().relative_to(PROJECT_ROOT)
        text = value.as_posix()
    elif isinstance(value, str):
        text = value if value else '""'
    else:
        text = repr(value)
    return f"`{text}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def settings_table(title: str, cls: type[BaseSettings]) -> str:
    """A markdown section for ``cls``: a ``### title`` heading, then a table.

    Columns: field | environment | default | meaning (the field's ``description``).
    Fields not read from the environment show ``—`` there. Ends with a newline.
    """
    lines = [
        f"### {title}",
        "",
        "| field | environment | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in cls.model_fields.items():
        envs = ", ".join(f"`{e}`" for e in env_names(cls, name)) or "—"
        meaning = _cell(field.description or "")
        lines.append(f"| `{name}` | {envs} | {_default_text(field)} | {meaning} |")
    return "\n".join(lines) + "\n"


def render_docs(sections: Sequence[tuple[str, type[BaseSettings]]]) -> str:
    """The generated block: `BEGIN_MARKER`, one `settings_table` per section, `END_MARKER`.

    ``sections`` are ``(title, settings class)`` pairs, rendered in order. Ends with
    a newline.
    """
    body = "\n".join(settings_table(title, cls) for title, cls in sections)
    return f"{BEGIN_MARKER}\n\n{body}\n{END_MARKER}\n"


def splice_docs(text: str, sections: Sequence[tuple[str, type[BaseSettings]]]) -> str:
    """``text`` with its generated block (markers included) replaced by `render_docs`.

    Raises `ValueError` if the markers are missing or out of order. Text before and
    after the block is kept byte for byte.
    """
    start = text.find(BEGIN_MARKER)
    end = text.find(END_MARKER, start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        raise ValueError("generated-docs markers not found")
    end += len(END_MARKER)
    if text[end : end + 1] == "\n":
        end += 1
    return text[:start] + render_docs(sections) + text[end:]


def main(
    argv: Sequence[str] | None = None,
    sections: Sequence[tuple[str, type[BaseSettings]]] | None = None,
) -> int:
    """``python -m server.config --docs``: print the generated block (default: the core)."""
    p = argparse.ArgumentParser(prog="python -m server.config")
    p.add_argument("--docs", action="store_true", help="print the generated settings tables")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if not args.docs:
        p.print_help()
        return 2
    sys.stdout.write(render_docs(sections or [("Core", Config)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
