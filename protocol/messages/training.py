"""Training: practice desks where a staff member runs a scenario with a simulated citizen.

The simulated citizen is an agent process the server starts (``agents/training/
citizen.py``); it joins as a citizen and proves it is the one started for a run
with ``training_join``. Its lines reach the staff member as text
(``training_line``) and as voice through the practice desk's voice room (the
same ``call``/``rtc_offer`` path as a desk call).
"""

from __future__ import annotations

from typing import Final

from protocol.messages.common import DESK_ID, LANG
from protocol.spec import FeatureProtocol, Field, c2s, documented, optional, s2c


class TrainingError:
    """Error codes of the training feature."""

    UNKNOWN_SCENARIO: Final = "unknown_scenario"
    UNKNOWN_PRACTICE_DESK: Final = "unknown_practice_desk"
    PRACTICE_DESK_TAKEN: Final = "practice_desk_taken"
    ALREADY_TRAINING: Final = "already_training"
    NOT_TRAINING: Final = "not_training"
    BAD_CHOICE: Final = "bad_choice"
    BAD_SESSION: Final = "bad_session"
    TRAINING_UNAVAILABLE: Final = "training_unavailable"


E = TrainingError

ERRORS = documented(
    TrainingError,
    {
        E.UNKNOWN_SCENARIO: "No training scenario has this id, or not in this language.",
        E.UNKNOWN_PRACTICE_DESK: "The world has no practice desk with this id.",
        E.PRACTICE_DESK_TAKEN: "Another staff member is training at that practice desk.",
        E.ALREADY_TRAINING: "The staff member is already running a scenario; stop it first.",
        E.NOT_TRAINING: "The staff member is not running a scenario (or it is not at a choice).",
        E.BAD_CHOICE: "The choice is not one offered by the current line.",
        E.BAD_SESSION: "training_join named no pending simulated-citizen session.",
        E.TRAINING_UNAVAILABLE: "The simulated citizen could not be started.",
    },
)

STAFF_ROLES = ("staff", "admin")
"""Roles the feature treats as trainees (who may send what: `protocol.permissions`)."""
SCENARIO_ID = Field("str", min_len=1, max_len=64, doc="a scenario id, e.g. angry-citizen")
NODE_ID = Field("str", min_len=1, max_len=64)
CHOICE_ID = Field("str", min_len=1, max_len=64)
TEXT = Field("str", max_len=2000)
SCORE = Field("float", min=0, max=1, doc="the rubric's result, 0..1")

CLIENT = (
    c2s(
        "training_start",
        {
            "desk": DESK_ID,
            "scenario": SCENARIO_ID,
            "lang": LANG,
            "ui": optional(
                Field("str", min_len=2, max_len=16, doc="language of the choices; default lang")
            ),
        },
        "Staff: start a scenario at a practice desk, with the citizen speaking lang. "
        "A simulated citizen walks up; its lines arrive as training_line.",
    ),
    c2s(
        "training_choice",
        {"choice": CHOICE_ID},
        "Staff: answer the citizen's current line with one of its choices.",
    ),
    c2s(
        "training_repeat",
        {},
        "Staff: ask the simulated citizen to say its current line again (voice).",
    ),
    c2s("training_stop", {}, "Staff: end the scenario without a debrief."),
    c2s(
        "training_join",
        {"session": Field("str", min_len=16, max_len=128, doc="the one-time secret it was given")},
        "The simulated citizen agent: claim the run the server started it for.",
    ),
)

TITLE = Field("str", max_len=200)

SERVER = (
    s2c(
        "training_scenarios",
        {
            "scenarios": Field(
                "list",
                max_len=256,
                items=Field(
                    "map",
                    fields={
                        "id": SCENARIO_ID,
                        "title": Field("map", doc="title in each UI language"),
                        "langs": Field("list", max_len=16, items=LANG),
                    },
                ),
            ),
            "desks": Field("list", max_len=256, items=DESK_ID, doc="practice desk ids"),
        },
        "Staff: the scenarios that can be started and the practice desks (sent on entering).",
    ),
    s2c(
        "training_line",
        {
            "scenario": SCENARIO_ID,
            "node": NODE_ID,
            "text": TEXT,
            "choices": Field(
                "list",
                max_len=16,
                items=Field("map", fields={"id": CHOICE_ID, "text": TEXT}),
                doc="empty on an end line (a debrief follows)",
            ),
        },
        "Staff: what the simulated citizen says now, and the answers to choose from.",
    ),
    s2c(
        "training_debrief",
        {
            "scenario": SCENARIO_ID,
            "score": SCORE,
            "rubric": Field(
                "list",
                max_len=32,
                items=Field(
                    "map",
                    fields={
                        "criterion": Field("str", max_len=64),
                        "name": TITLE,
                        "points": Field("int", min=0, max=1000),
                        "max": Field("int", min=0, max=1000),
                    },
                ),
            ),
        },
        "Staff: the scenario ended; the rubric's result (a completed scenario).",
    ),
    s2c(
        "training_ended",
        {"scenario": SCENARIO_ID, "reason": Field("str", max_len=200)},
        "Staff: the scenario ended without a debrief (stopped, or the citizen left).",
    ),
    s2c(
        "training_say",
        {
            "node": NODE_ID,
            "clip": optional(Field("str", max_len=200, doc="file name in the agent's audio dir")),
            "text": TEXT,
            "end": Field("bool", doc="the last line: leave after saying it"),
        },
        "The simulated citizen agent: say this line (play the clip through its voice).",
    ),
)

PROTOCOL = FeatureProtocol(
    "training",
    CLIENT,
    SERVER,
    ERRORS,
    doc="Practice desks: training scenarios with a simulated citizen (text and voice).",
)
