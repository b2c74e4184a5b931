"""Docs that must stay true: every setting is documented, and the tables are current."""

from __future__ import annotations

from pathlib import Path

from server.config import Config, env_names, from_env, render_docs
from server.features import FEATURES, settings_sections

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "CONFIGURATION.md"


def test_every_setting_is_documented() -> None:
    text = CONFIGURATION.read_text(encoding="utf-8")
    for _title, cls in settings_sections():
        for name in cls.model_fields:
            if name == "features":
                continue  # code-only: per-feature overrides, not read from the environment
            for env in env_names(cls, name):
                assert f"`{env}`" in text, env
    assert "SERVICEPOINT_CHAT_RADIUS" in text and "SERVICEPOINT_DESKS_CALL_TIMEOUT_S" in text


def test_generated_tables_are_current() -> None:
    text = CONFIGURATION.read_text(encoding="utf-8")
    assert render_docs(settings_sections()) in text, "run: python -m server.features --docs"


def test_every_feature_with_settings_has_a_section() -> None:
    titled = {cls for _title, cls in settings_sections()}
    for feature in FEATURES:
        assert not feature.Settings.model_fields or feature.Settings in titled, feature.name


def test_environment_overrides_defaults() -> None:
    cfg = from_env({"PORT": "9001", "SERVICEPOINT_TICK_HZ": "30", "REDIS_URL": "redis://x"})
    assert (cfg.port, cfg.tick_hz, cfg.redis_url) == (9001, 30, "redis://x")
    cfg = from_env({"PORT": "9001"}, port=9002, host=None)
    assert cfg.port == 9002 and cfg.host == "127.0.0.1"
    assert isinstance(Config().resume_s, int)
