"""Configuration: validated settings from defaults, the environment and code."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.config import (
    BEGIN_MARKER,
    END_MARKER,
    Config,
    FeatureSettings,
    from_env,
    load_section,
    render_docs,
    settings_table,
    splice_docs,
)


class SampleSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_SAMPLE_")

    enabled: bool = Field(default=True, description="Whether the sample runs.")
    radius: float = Field(default=15.0, gt=0, description="Reach, metres.")
    history: int = Field(default=50, ge=0, le=1000, description="Lines kept | per zone.")


@pytest.mark.parametrize("raw", ["false", "False", "0", "no", "off"])
def test_false_strings_are_false(raw: str) -> None:
    assert load_section(SampleSettings, env={"SERVICEPOINT_SAMPLE_ENABLED": raw}).enabled is False


@pytest.mark.parametrize("raw", ["true", "1", "yes"])
def test_true_strings_are_true(raw: str) -> None:
    s = load_section(SampleSettings, env={"SERVICEPOINT_SAMPLE_ENABLED": "false"})
    assert s.enabled is False
    assert load_section(SampleSettings, env={"SERVICEPOINT_SAMPLE_ENABLED": raw}).enabled is True


def test_section_values_are_coerced_and_defaulted() -> None:
    s = load_section(SampleSettings, env={"SERVICEPOINT_SAMPLE_RADIUS": "7.5"})
    assert (s.enabled, s.radius, s.history) == (True, 7.5, 50)


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"SERVICEPOINT_TICK_HZ": "0"}, "tick_hz"),
        ({"SERVICEPOINT_PORT": "70000"}, "port"),
        ({"PORT": "-1"}, "port"),
        ({"SERVICEPOINT_INTEREST_RADIUS": "0"}, "interest_radius"),
        ({"SERVICEPOINT_SLOW_CONSUMER_CLOSE_S": "-1"}, "slow_consumer_close_s"),
        ({"SERVICEPOINT_MAX_ENTITIES": "many"}, "max_entities"),
    ],
)
def test_out_of_range_refused_naming_the_field(env: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        from_env(env)
    assert field in str(err.value)
    assert [e["loc"] for e in err.value.errors()] == [(field,)]


def test_section_out_of_range_refused() -> None:
    with pytest.raises(ValidationError, match="radius"):
        load_section(SampleSettings, env={"SERVICEPOINT_SAMPLE_RADIUS": "0"})
    with pytest.raises(ValidationError, match="history"):
        load_section(SampleSettings, {"history": 5000})


def test_explicit_env_does_not_see_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICEPOINT_TICK_HZ", "33")
    monkeypatch.setenv("PORT", "9100")
    monkeypatch.setenv("SERVICEPOINT_SAMPLE_RADIUS", "3")
    cfg = from_env({})
    assert (cfg.tick_hz, cfg.port) == (20, 8000)
    assert load_section(SampleSettings, env={}).radius == 15.0
    # ...while the default env is the process environment,
    cfg = from_env()
    assert (cfg.tick_hz, cfg.port) == (33, 9100)
    assert load_section(SampleSettings).radius == 3.0
    # ...and direct construction reads none.
    assert (Config().tick_hz, Config().port) == (20, 8000)
    assert SampleSettings().radius == 15.0


def test_overrides_win_and_none_is_ignored() -> None:
    cfg = from_env({"SERVICEPOINT_TICK_HZ": "30", "PORT": "9001"}, tick_hz=40, host=None)
    assert (cfg.tick_hz, cfg.port, cfg.host) == (40, 9001, "127.0.0.1")
    s = load_section(SampleSettings, {"radius": 2}, env={"SERVICEPOINT_SAMPLE_RADIUS": "9"})
    assert s.radius == 2.0
    with pytest.raises(ValidationError, match="tick_hz"):
        from_env({}, tick_hz=0)


def test_bare_host_port_redis_url_and_prefix_wins() -> None:
    cfg = from_env({"HOST": "0.0.0.0", "PORT": "9001", "REDIS_URL": "redis://x"})
    assert (cfg.host, cfg.port, cfg.redis_url) == ("0.0.0.0", 9001, "redis://x")
    cfg = from_env(
        {
            "HOST": "0.0.0.0",
            "SERVICEPOINT_HOST": "::1",
            "PORT": "9001",
            "SERVICEPOINT_PORT": "9002",
            "REDIS_URL": "redis://x",
            "SERVICEPOINT_REDIS_URL": "redis://y",
        }
    )
    assert (cfg.host, cfg.port, cfg.redis_url) == ("::1", 9002, "redis://y")
    # Only those three are read bare.
    assert from_env({"TICK_HZ": "30"}).tick_hz == 20


def test_empty_values_count_as_unset() -> None:
    cfg = from_env({"SERVICEPOINT_PORT": "", "PORT": "9001", "SERVICEPOINT_REDIS_URL": ""})
    assert (cfg.port, cfg.redis_url) == (9001, None)


def test_paths_stay_paths() -> None:
    cfg = from_env({"SERVICEPOINT_DATA_DIR": "/tmp/sp", "SERVICEPOINT_WORLD_PATH": "w.toml"})
    assert cfg.data_dir == Path("/tmp/sp") and cfg.world_path == Path("w.toml")
    assert isinstance(Config().web_root, Path)


def test_keyword_construction(tmp_path: Path) -> None:
    secret = "s3" * 16
    cfg = Config(host="127.0.0.1", port=0, data_dir=tmp_path, secret=secret, tick_hz=50)
    assert (cfg.port, cfg.data_dir, cfg.secret, cfg.tick_hz) == (0, tmp_path, secret, 50)
    assert cfg.ensure_secret() == secret
    assert (cfg.token_issuer, cfg.token_audience, cfg.previous_secrets) == (
        "servicepoint",
        "servicepoint",
        "",
    )
    assert (cfg.allowed_origins, cfg.slow_consumer_close_s) == ("", 5.0)


def test_ensure_secret_generates_once(tmp_path: Path) -> None:
    cfg = Config(data_dir=tmp_path / "d")
    secret = cfg.ensure_secret()
    assert secret and (tmp_path / "d" / "secret").stat().st_mode & 0o777 == 0o600
    assert Config(data_dir=tmp_path / "d").ensure_secret() == secret


def test_features_overrides_kept_and_not_read_from_env() -> None:
    cfg = Config(port=0, features={"desks": {"call_timeout_s": 1}})
    assert cfg.features == {"desks": {"call_timeout_s": 1}}
    assert Config().features == {} and Config().features is not Config().features
    cfg = from_env({"SERVICEPOINT_FEATURES": '{"x": {"y": 1}}'}, features={"sample": {}})
    assert cfg.features == {"sample": {}}
    assert from_env({"SERVICEPOINT_FEATURES": '{"x": {"y": 1}}'}).features == {}
    s = load_section(SampleSettings, Config(features={"sample": {"history": 3}}).features["sample"])
    assert s.history == 3


def test_unknown_field_refused() -> None:
    with pytest.raises(ValidationError, match="bogus"):
        Config(bogus=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="chat_radius"):
        from_env({}, chat_radius=3.0)
    with pytest.raises(ValidationError, match="bogus"):
        load_section(SampleSettings, {"bogus": 1})
    # Stray environment variables under the prefix are not errors.
    assert from_env({"SERVICEPOINT_BOGUS": "1"}).port == 8000


def test_settings_table() -> None:
    table = settings_table("Sample", SampleSettings)
    lines = table.splitlines()
    assert lines[0] == "### Sample"
    assert "| field | environment | default | meaning |" in lines
    assert (
        "| `enabled` | `SERVICEPOINT_SAMPLE_ENABLED` | `True` | Whether the sample runs. |" in lines
    )
    assert (
        "| `history` | `SERVICEPOINT_SAMPLE_HISTORY` | `50` | Lines kept \\| per zone. |" in lines
    )
    core = settings_table("Core", Config)
    assert "| `port` | `SERVICEPOINT_PORT`, `PORT` | `8000` |" in core
    assert "| `world_path` | `SERVICEPOINT_WORLD_PATH` | `server/data/world.toml` |" in core
    assert "| `features` | — | `{}` |" in core
    for name, field in Config.model_fields.items():
        assert field.description, name
        assert f"| `{name}` |" in core


def test_render_and_splice_docs() -> None:
    sections: list[tuple[str, type[BaseSettings]]] = [("Core", Config), ("Sample", SampleSettings)]
    block = render_docs(sections)
    assert block.startswith(BEGIN_MARKER + "\n") and block.endswith(END_MARKER + "\n")
    assert block.index("### Core") < block.index("### Sample")
    doc = f"# Configuration\n\nIntro.\n\n{BEGIN_MARKER}\nstale\n{END_MARKER}\n\n## After\n"
    spliced = splice_docs(doc, sections)
    assert spliced == f"# Configuration\n\nIntro.\n\n{block}\n## After\n"
    assert "stale" not in spliced
    assert splice_docs(spliced, sections) == spliced
    with pytest.raises(ValueError):
        splice_docs("# no markers\n", sections)


def test_a_signing_secret_shorter_than_hs256_wants_is_refused() -> None:
    with pytest.raises(ValidationError, match="secret"):
        Config(secret="short")
    assert Config(secret="x" * 32).secret == "x" * 32
