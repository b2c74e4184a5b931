"""The scorecard's rules file: the defaults are balanced, and bad files name their line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from server.features.scorecard.rules import (
    BADGE_CONDITIONS,
    KNOWN_METRICS,
    QUALITY_AND_OUTCOME,
    RuleError,
    load_rules,
)

ROOT = Path(__file__).resolve().parents[4]
DEFAULT = ROOT / "server" / "data" / "scorecard.toml"
LANGS = {"sv", "da", "de", "ja", "en"}

SMALL = """\
[season]
starts = 2026-10-01
length_days = 91

[[metric]]
name = "satisfaction"
max_points = 40
zones = [[5, 12], [4, 8], [3, 2]]

[[metric]]
name = "first_contact"
max_points = 20
case_points = 5

[[metric]]
name = "handle_band"
max_points = 10
case_points = 3
band = [240, 900]

[[level]]
id = "newcomer"
points = 0
names = { en = "Newcomer" }

[[level]]
id = "skilled"
points = 500
names = { en = "Skilled" }

[[badge]]
id = "three-languages"
when = { languages_served = 3 }
names = { en = "Served in three languages" }

[[challenge]]
id = "team-day"
period = "day"
csat_min = 0.8
names = { en = "Team day" }
"""


def line_of(text: str, needle: str, after: int = 0) -> int:
    """The 1-based number of the first line after line ``after`` containing ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > after and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def error_of(text: str) -> RuleError:
    with pytest.raises(RuleError) as info:
        load_rules(text)
    return info.value


# -- the defaults -----------------------------------------------------------------------


def test_the_default_rules_put_most_weight_on_quality_and_outcome() -> None:
    rules = load_rules(DEFAULT.read_text(encoding="utf-8"))
    assert {m.name for m in rules.metrics} == set(KNOWN_METRICS)
    assert rules.max_total() == 100
    assert rules.quality_share() >= 0.5
    assert rules.quality_share() == pytest.approx(0.6)  # (40 + 20) / 100
    assert {"satisfaction", "first_contact"} == QUALITY_AND_OUTCOME
    assert sum(rules.weights().values()) == pytest.approx(1.0)
    assert rules.min_quality_share == 0.5


def test_the_defaults_reward_no_volume_and_no_speed() -> None:
    rules = load_rules(DEFAULT.read_text(encoding="utf-8"))
    assert not [m for m in rules.metrics if "volume" in m.name or "count" in m.name]
    band = rules.metric("handle_band")
    assert band is not None and band.band == (240.0, 900.0)
    assert not band.in_band(239.9) and band.in_band(240) and band.in_band(900)
    assert not band.in_band(0) and not band.in_band(901)
    satisfaction = rules.metric("satisfaction")
    assert satisfaction is not None
    assert [satisfaction.zone_points(r) for r in (1, 2, 3, 4, 5)] == [0, 0, 2, 8, 12]
    assert satisfaction.case_max == 12
    # the mean metrics (never a count of cases) carry quality, outcome and the band
    assert {m.name for m in rules.metrics if m.mode == "mean"} >= {
        "satisfaction",
        "first_contact",
        "handle_band",
    }


def test_the_defaults_name_levels_badges_and_challenges_in_five_languages() -> None:
    rules = load_rules(DEFAULT.read_text(encoding="utf-8"))
    assert [lv.points for lv in rules.levels] == sorted(lv.points for lv in rules.levels)
    assert rules.levels[0].points == 0
    named = [(x.id, x.names) for x in rules.levels]
    named += [(x.id, x.names) for x in rules.badges]
    named += [(x.id, x.names) for x in rules.challenges]
    for thing, names in named:
        assert set(names) == LANGS, thing
    assert {b.condition for b in rules.badges} == set(BADGE_CONDITIONS)
    ids = {b.id: b for b in rules.badges}
    assert ids["three-languages"].value == 3
    assert ids["ten-five-stars"].value == 10
    assert ids["training-difficult-conversation"].value == "angry-citizen"
    assert rules.season.starts == date(2026, 10, 1) and rules.season.length_days == 91
    assert rules.goal_kinds == ("csat_week", "rating_week", "training_scenario")


def test_seasons_and_levels() -> None:
    rules = load_rules(SMALL)
    assert rules.season.index(date(2026, 10, 1)) == 0
    assert rules.season.index(date(2026, 12, 30)) == 0
    assert rules.season.index(date(2026, 12, 31)) == 1
    assert rules.season.bounds(1) == (date(2026, 12, 31), date(2027, 3, 31))
    assert rules.season.index(date(2026, 9, 30)) == -1
    held, following = rules.level_for(499.9)
    assert held is not None and held.id == "newcomer"
    assert following is not None and following.id == "skilled"
    held, following = rules.level_for(500)
    assert held is not None and held.id == "skilled" and following is None


# -- errors name the line -------------------------------------------------------------------


def test_a_syntax_error_names_its_line() -> None:
    text = SMALL.replace("max_points = 20", "max_points = = 20")
    e = error_of(text)
    assert e.line == line_of(text, "max_points = = 20")
    assert str(e).startswith(f"line {e.line}: TOML")


def test_an_unknown_metric_is_an_error_naming_its_line() -> None:
    text = SMALL + '\n[[metric]]\nname = "cases_per_hour"\nmax_points = 10\ncase_points = 1\n'
    e = error_of(text)
    assert e.line == line_of(text, "cases_per_hour")
    assert "unknown metric 'cases_per_hour'" in e.reason


@pytest.mark.parametrize("value", ["0", "-5", "-0.5"])
def test_max_points_must_be_positive(value: str) -> None:
    text = SMALL.replace("max_points = 20", f"max_points = {value}")
    e = error_of(text)
    assert e.line == line_of(text, f"max_points = {value}")
    assert "max_points must be more than 0" in e.reason


def test_a_negative_case_points_is_an_error() -> None:
    text = SMALL.replace("case_points = 5", "case_points = -5")
    e = error_of(text)
    assert e.line == line_of(text, "case_points = -5")


@pytest.mark.parametrize(
    ("zones", "reason"),
    [
        ("[[4, 8], [5, 12], [3, 2]]", "thresholds must decrease"),
        ("[[5, 12], [5, 8]]", "thresholds must decrease"),
        ("[[5, 2], [4, 8]]", "lower rating may not earn more"),
        ("[[6, 12]]", "from 1 to 5"),
        ("[[5, 0]]", "more than 0"),
        ("[]", "list of [lowest rating, points]"),
    ],
)
def test_zones_must_rise_with_the_rating(zones: str, reason: str) -> None:
    text = SMALL.replace("zones = [[5, 12], [4, 8], [3, 2]]", f"zones = {zones}")
    e = error_of(text)
    assert e.line == line_of(text, "zones =")
    assert reason in e.reason


@pytest.mark.parametrize("band", ["[900, 240]", "[240, 240]", "[240]", "[-1, 5]"])
def test_the_band_must_increase(band: str) -> None:
    text = SMALL.replace("band = [240, 900]", f"band = {band}")
    e = error_of(text)
    assert e.line == line_of(text, "band =")


def test_levels_must_increase_and_start_at_zero() -> None:
    text = SMALL.replace("points = 500", "points = 0")
    e = error_of(text)
    assert e.line == line_of(text, "points = 0", after=line_of(text, 'id = "skilled"'))
    assert "increasing points" in e.reason
    text = SMALL.replace("points = 0\n", "points = 10\n")
    e = error_of(text)
    assert e.line == line_of(text, "points = 10", after=line_of(text, 'id = "newcomer"'))
    assert "first level must start at 0" in e.reason


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("case_points = 5", "case_points = 5\nspeed_bonus = 3", "speed_bonus"),
        ("band = [240, 900]", "band = [240, 900]\nzones = [[5, 1]]", "zones = [[5, 1]]"),
        ('id = "newcomer"', 'id = "newcomer"\ncolour = "gold"', "colour"),
        ("csat_min = 0.8", "csat_min = 0.8\nprize = 100", "prize"),
        ("length_days = 91", "length_days = 91\nreset = true", "reset"),
    ],
)
def test_unknown_keys_are_errors_naming_their_line(old: str, new: str, needle: str) -> None:
    text = SMALL.replace(old, new)
    e = error_of(text)
    assert e.line == line_of(text, needle)
    assert "unknown key" in e.reason


def test_an_unknown_table_is_an_error() -> None:
    text = SMALL + "\n[jackpot]\namount = 5\n"
    e = error_of(text)
    assert e.line == line_of(text, "[jackpot]")


def test_an_unknown_badge_condition_is_an_error() -> None:
    text = SMALL.replace("when = { languages_served = 3 }", "when = { cases_closed = 100 }")
    e = error_of(text)
    assert e.line == line_of(text, "cases_closed")
    assert "unknown badge condition 'cases_closed'" in e.reason
    for bad in (
        "{ languages_served = 0 }",
        "{ scenario = 3 }",
        "{ qa_answers = 1, scenario = 'x' }",
    ):
        text = SMALL.replace("when = { languages_served = 3 }", f"when = {bad}")
        assert error_of(text).line == line_of(text, "when =")


def test_names_need_english_and_language_codes() -> None:
    text = SMALL.replace('names = { en = "Skilled" }', 'names = { sv = "Skicklig" }')
    e = error_of(text)
    assert e.line == line_of(text, 'names = { sv = "Skicklig" }')
    assert "English" in e.reason


def test_a_duplicate_metric_and_badge_are_errors() -> None:
    text = SMALL + '\n[[metric]]\nname = "first_contact"\nmax_points = 5\ncase_points = 1\n'
    e = error_of(text)
    assert e.line == line_of(text, 'name = "first_contact"', after=line_of(text, "band ="))
    text = SMALL + '\n[[badge]]\nid = "three-languages"\nwhen = { qa_answers = 1 }\n'
    text += 'names = { en = "x" }\n'
    e = error_of(text)
    assert e.line == line_of(text, 'id = "three-languages"', after=line_of(text, "[challenge]"))


def test_rules_with_too_little_quality_are_refused() -> None:
    # 40 + 20 of 40 + 20 + 10 + 60 = 46 % < 50 %
    text = SMALL + '\n[[metric]]\nname = "training"\nmax_points = 60\ncase_points = 5\n'
    e = error_of(text)
    assert "quality and outcome" in e.reason and "46%" in e.reason
    assert e.line == line_of(text, "[[metric]]")
    # an explicit, visible decision lowers the floor
    text = "[balance]\nmin_quality_share = 0.4\n" + text
    assert load_rules(text).quality_share() == pytest.approx(60 / 130)


def test_goal_kinds_and_challenge_goals_are_checked() -> None:
    text = SMALL + '\n[goals]\nkinds = ["csat_week", "handle_fast"]\n'
    e = error_of(text)
    assert e.line == line_of(text, "kinds =") and "handle_fast" in e.reason
    text = SMALL.replace("csat_min = 0.8", "csat_min = 80")
    assert error_of(text).line == line_of(text, "csat_min = 80")
    text = SMALL.replace("csat_min = 0.8\n", "")
    e = error_of(text)
    assert e.line == line_of(text, "[[challenge]]") and "needs a goal" in e.reason
    text = SMALL.replace('period = "day"', 'period = "hour"')
    assert error_of(text).line == line_of(text, 'period = "hour"')


def test_the_minimal_file_loads() -> None:
    rules = load_rules(SMALL)
    assert [m.name for m in rules.metrics] == ["satisfaction", "first_contact", "handle_band"]
    assert rules.quality_share() == pytest.approx(60 / 70)
    assert rules.challenges[0].services is None and rules.challenges[0].goals() == [("csat", 0.8)]
