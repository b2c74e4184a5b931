"""The scenario loader: the shipped scenarios are valid; a broken file stops the start by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server.features.training.scenarios import SHIPPED_DIR, load_scenarios, parse_scenario
from server.plug import StartupError


def test_the_shipped_scenarios_load_and_score_within_bounds() -> None:
    scenarios = load_scenarios(SHIPPED_DIR)
    assert {"angry-citizen", "wrong-language", "reads-personnummer", "complex-permit"} <= set(
        scenarios
    )
    angry = scenarios["angry-citizen"]
    assert angry.score({"empathy": 1, "deescalation": 1, "resolution": 2})[0] == pytest.approx(
        4 / 6
    )
    assert angry.score({"empathy": 99})[0] == pytest.approx(2 / 6)  # capped at the max
    assert any(n.end for n in angry.nodes.values())


def copy_of(tmp_path: Path, name: str = "angry-citizen.toml") -> Path:
    target = tmp_path / name
    shutil.copy(SHIPPED_DIR / name, target)
    return target


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('next = "calmer"', 'next = "nowhere"', "nowhere"),
        ("points = { resolution = 2 }", "points = { speed = 2 }", "speed"),
        ('en = "Angry citizen" }', "}", "en"),
        ('id = "angry-citizen"', 'id = "angry-citizen"\nbogus = 1', "bogus"),
        ("max = 2", "max = -1", "max"),
        ("[nodes.opening]", "[nodes.opening", "Expected"),
    ],
)
def test_a_malformed_file_is_a_startup_error_naming_it(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    path = copy_of(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(StartupError) as caught:
        load_scenarios(tmp_path)
    assert str(path) in str(caught.value) and says in str(caught.value)


def test_a_missing_clip_is_a_startup_error_naming_the_file(tmp_path: Path) -> None:
    path = copy_of(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "[nodes.opening]\n", '[nodes.opening]\nclip = { sv = "clips/opening.sv.wav" }\n', 1
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StartupError) as caught:
        parse_scenario(path)
    assert str(path) in str(caught.value) and "opening.sv.wav" in str(caught.value)
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "opening.sv.wav").write_bytes(b"RIFF")
    assert parse_scenario(path).node("opening").clips["sv"].name == "opening.sv.wav"


def test_two_files_with_one_id_are_refused(tmp_path: Path) -> None:
    copy_of(tmp_path)
    shutil.copy(SHIPPED_DIR / "angry-citizen.toml", tmp_path / "again.toml")
    with pytest.raises(StartupError, match=r"again\.toml"):
        load_scenarios(tmp_path)
