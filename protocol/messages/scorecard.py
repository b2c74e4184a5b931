"""Scorecard: balanced, informational feedback for staff; goals, badges, opt-in boards.

Only staff (and admins serving at desks) use these messages, and only about
themselves: there is no message that names another staff member's figures.
Points follow the rules in ``server/data/scorecard.toml`` (docs/SCORECARD.md):
quality and outcome carry most of the weight, handle time counts only inside
a band, and raw volume never earns anything. Everyone can leave the
scorecard entirely; boards are opt-in.
"""

from __future__ import annotations

from typing import Final

from protocol.spec import FeatureProtocol, Field, c2s, documented, optional, s2c


class ScorecardError:
    """Error codes of the scorecard."""

    NOT_PARTICIPATING: Final = "not_participating"
    NOT_OPTED_IN: Final = "not_opted_in"
    UNKNOWN_GOAL: Final = "unknown_goal"
    BAD_GOAL: Final = "bad_goal"
    TOO_MANY_GOALS: Final = "too_many_goals"
    PRIVATE: Final = "private"
    WORKS_AGREEMENT: Final = "works_agreement"


E = ScorecardError

ERRORS = documented(
    ScorecardError,
    {
        E.NOT_PARTICIPATING: "The staff member has left the scorecard; join it again first.",
        E.NOT_OPTED_IN: "Leaderboards are opt-in: turn yours on to see one.",
        E.UNKNOWN_GOAL: "There is no goal with this id.",
        E.BAD_GOAL: "The goal's kind or target is not one the rules allow.",
        E.TOO_MANY_GOALS: "The staff member has as many goals as the rules allow; clear one first.",
        E.PRIVATE: "Another staff member's figures are theirs alone.",
        E.WORKS_AGREEMENT: "Under the works agreement only team figures are shown.",
    },
)

METRIC = Field("str", min_len=1, max_len=32)
POINTS = Field("float", min=-1e9, max=1e9)
LINE = Field(
    "map",
    fields={
        "metric": METRIC,
        "points": POINTS,
        "reason": Field("str", min_len=1, max_len=32, doc="an i18n key: rated, band_in, ..."),
        "args": Field("map", doc="values for the reason's sentence"),
    },
    doc="one informational line about a case",
)
GOAL_ID = Field("str", min_len=1, max_len=40)

CLIENT = (
    c2s(
        "scorecard_get",
        {"staff": optional(Field("str", max_len=128, doc="only one's own subject is allowed"))},
        "Ask for one's own progress (a ``scorecard``).",
    ),
    c2s(
        "scorecard_settings",
        {
            "participate": optional(Field("bool", doc="take part at all (default yes)")),
            "leaderboard": optional(Field("bool", doc="appear on boards (default no)")),
            "show_badges": optional(Field("bool", doc="show badges on one's avatar")),
        },
        "Change one's own scorecard settings.",
    ),
    c2s(
        "goal_set",
        {
            "kind": Field("str", min_len=1, max_len=32, doc="a goal kind the rules allow"),
            "target": Field("float", min=0, max=1e6),
            "ref": optional(Field("str", max_len=64, doc="e.g. a training scenario's id")),
        },
        "Set a personal goal.",
    ),
    c2s("goal_clear", {"goal": GOAL_ID}, "Remove a personal goal."),
    c2s("leaderboard_get", {}, "Ask for the board (opted-in staff only)."),
)

SERVER = (
    s2c(
        "scorecard",
        {
            "progress": Field(
                "map",
                doc="points today and this season, metrics, level, badges, "
                "goals, the team challenge, the last case's lines, settings",
            )
        },
        "One's own progress.",
    ),
    s2c(
        "case_feedback",
        {
            "ticket": Field("str", min_len=1, max_len=16),
            "lines": Field("list", max_len=32, items=LINE),
            "total": POINTS,
        },
        "Informational feedback about a case as soon as its inputs exist (again if they change).",
    ),
    s2c(
        "staff_badges",
        {
            "id": Field("int", min=1, max=2**32 - 1, doc="the staff member's avatar"),
            "badges": Field(
                "list",
                max_len=64,
                items=Field("map", fields={"id": Field("str", max_len=64), "names": Field("map")}),
            ),
        },
        "The badges a staff member chose to show on their avatar (empty: none shown).",
    ),
    s2c(
        "leaderboard",
        {"board": Field("map", doc="top entries and the viewer's own rank and neighbours")},
        "The opt-in board of this season.",
    ),
)

PROTOCOL = FeatureProtocol(
    "scorecard",
    CLIENT,
    SERVER,
    ERRORS,
    doc="Balanced scorecard for staff: informational case feedback, goals, badges, opt-in boards.",
)
