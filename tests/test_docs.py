"""Docs that must stay true: every configuration field is documented."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from server.config import Config, from_env

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")
    for f in fields(Config):
        assert f"`SERVICEPOINT_{f.name.upper()}`" in text, f.name


def test_environment_overrides_defaults() -> None:
    cfg = from_env({"PORT": "9001", "SERVICEPOINT_TICK_HZ": "30", "REDIS_URL": "redis://x"})
    assert (cfg.port, cfg.tick_hz, cfg.redis_url) == (9001, 30, "redis://x")
    cfg = from_env({"PORT": "9001"}, port=9002, host=None)
    assert cfg.port == 9002 and cfg.host == "127.0.0.1"
