"""Alert rules, states, surges, silences and grouping (pure: scripted figures and times)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.features.insight.alerts import (
    Alerter,
    RuleError,
    RuleSet,
    ServiceFigures,
    Transition,
    alertmanager_payload,
    fingerprint,
    load_rules,
    parse_duration,
)

ROOT = Path(__file__).resolve().parents[4]
EXAMPLE = ROOT / "server" / "data" / "alerts.toml"
SERVICES = ("general", "registration", "benefits", "permits")
T0 = 1_764_633_600.0  # 2025-12-02T00:00:00Z

QUEUE_RULE = """
[route]
group_wait = "10s"
group_interval = "30s"
repeat_interval = "1h"

[[rule]]
name = "long-queue"
kind = "queue_length"
services = ["general"]
threshold = 3
for = "20s"
keep_firing_for = "10s"
"""


def figures(queue: int = 0, wait: float = 0.0, staff: int = 1, **kw: int | None) -> ServiceFigures:
    return ServiceFigures(
        queue_length=queue,
        current_wait_s=wait,
        target_wait_s=600.0,
        staff_on_duty=staff,
        waiting=kw.pop("waiting", queue) or 0,
        qa_overdue=kw.pop("qa_overdue", None),
    )


def states(changes: list[Transition]) -> list[str]:
    return [c.state for c in changes]


def test_durations() -> None:
    assert parse_duration("30s") == 30 and parse_duration("5m") == 300
    assert parse_duration("1h30m") == 5400 and parse_duration(12) == 12.0
    assert parse_duration("250ms") == 0.25
    for bad in ("5x", "", "-1s", -3, True, "1 h"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_pending_firing_resolved_as_the_queue_grows_and_shrinks() -> None:
    alerter = Alerter(load_rules(QUEUE_RULE, SERVICES))
    script = [2, 3, 4, 5, 6, 6, 5, 3, 2, 2, 1, 1]  # one evaluation every 5 s
    seen: list[tuple[float, str, str]] = []
    for i, queue in enumerate(script):
        now = T0 + 5 * i
        for change in alerter.evaluate(now, {"general": figures(queue)}):
            seen.append((now - T0, change.previous, change.state))
    # true from t=10 (4 > 3); firing once true for 20 s (t=30); false from t=35 (3);
    # kept firing for 10 s, resolved at t=45
    assert seen == [
        (10, "inactive", "pending"),
        (30, "pending", "firing"),
        (45, "firing", "resolved"),
    ]
    active = alerter.active(T0 + 60)
    assert [(a["state"], a["service"], a["rule"]) for a in active] == [
        ("resolved", "general", "long-queue")
    ]
    assert set(active[0]) == {
        "fingerprint",
        "rule",
        "kind",
        "state",
        "service",
        "since",
        "value",
        "threshold",
        "summary",
        "silenced",
    }
    assert active[0]["silenced"] is False and active[0]["since"] == T0 + 45
    assert alerter.active(T0 + 45 + 900) == []  # resolved alerts are shown for 15 min


def test_firing_alert_shows_value_threshold_and_summary() -> None:
    alerter = Alerter(load_rules(QUEUE_RULE, SERVICES))
    alerter.evaluate(T0, {"general": figures(5)})
    change = alerter.evaluate(T0 + 20, {"general": figures(7)})[0]
    assert change.state == "firing" and not change.silenced
    msg = change.message()
    assert msg == {
        "fingerprint": change.fingerprint,
        "rule": "long-queue",
        "kind": "queue_length",
        "state": "firing",
        "service": "general",
        "value": 7.0,
        "threshold": 3.0,
        "since": T0 + 20,
        "summary": "7 in the queue for general (limit 3)",
    }
    assert len(change.fingerprint) == 16
    assert change.fingerprint == fingerprint(change.labels)
    assert "long-queue/general" in change.describe()


def test_pending_goes_back_to_inactive_when_false_before_for() -> None:
    alerter = Alerter(load_rules(QUEUE_RULE, SERVICES))
    assert states(alerter.evaluate(T0, {"general": figures(5)})) == ["pending"]
    assert alerter.evaluate(T0 + 10, {"general": figures(5)}) == []
    back = alerter.evaluate(T0 + 15, {"general": figures(1)})
    assert states(back) == ["inactive"] and back[0].message()["state"] == "resolved"
    assert alerter.active(T0 + 15) == []
    # true again: pending anew, and `for` counts from now
    assert states(alerter.evaluate(T0 + 20, {"general": figures(5)})) == ["pending"]
    assert alerter.evaluate(T0 + 35, {"general": figures(5)}) == []
    assert states(alerter.evaluate(T0 + 40, {"general": figures(5)})) == ["firing"]
    assert alerter.due_notifications(T0 + 100) != []


def test_keep_firing_for_bridges_a_short_dip() -> None:
    alerter = Alerter(load_rules(QUEUE_RULE, SERVICES))
    alerter.evaluate(T0, {"general": figures(5)})
    alerter.evaluate(T0 + 20, {"general": figures(5)})
    assert alerter.evaluate(T0 + 25, {"general": figures(0)}) == []  # dip: still firing
    assert alerter.evaluate(T0 + 30, {"general": figures(5)}) == []  # back: no change
    assert alerter.evaluate(T0 + 35, {"general": figures(0)}) == []
    assert states(alerter.evaluate(T0 + 45, {"general": figures(0)})) == ["resolved"]


def test_for_zero_fires_at_once_and_other_kinds() -> None:
    text = """
[[rule]]
name = "long-wait"
kind = "wait_above_target"
factor = 1.5
[[rule]]
name = "no-staff"
kind = "no_staff"
[[rule]]
name = "qa"
kind = "qa_overdue"
"""
    alerter = Alerter(load_rules(text, SERVICES))
    quiet = {"general": figures(2, wait=800.0), "permits": figures(0, staff=0)}
    assert alerter.evaluate(T0, quiet) == []  # 800 ≤ 600 × 1.5; permits: nobody waiting
    loud = {
        "general": figures(2, wait=901.0),
        "permits": figures(1, staff=0),
        "benefits": figures(0, qa_overdue=2),
    }
    fired = {
        (c.rule, c.service, c.state, c.value, c.threshold) for c in alerter.evaluate(T0 + 1, loud)
    }
    assert fired == {
        ("long-wait", "general", "firing", 901.0, 900.0),
        ("no-staff", "permits", "firing", 1.0, 0.0),
        ("qa", "benefits", "firing", 2.0, 0.0),
    }


def test_qa_overdue_is_inactive_while_the_figure_is_absent() -> None:
    alerter = Alerter(load_rules('[[rule]]\nname = "qa"\nkind = "qa_overdue"\n', SERVICES))
    for i in range(5):
        assert alerter.evaluate(T0 + i, {"general": figures(9, qa_overdue=None)}) == []
    assert alerter.active(T0 + 5) == []


SURGE_RULE = """
[route]
group_wait = "0s"
group_interval = "1m"
repeat_interval = "1h"

[[rule]]
name = "low-ratings"
kind = "feedback_surge"
low = 2
k = 0.3
h = 2.0
min_count = 5
window = "30m"
keep_firing_for = "5m"
"""


def test_a_surge_of_low_ratings_fires_once_not_on_every_rating() -> None:
    alerter = Alerter(load_rules(SURGE_RULE, SERVICES))
    changes: list[Transition] = []
    batches = 0
    now = T0
    for rating in [5, 4, 5, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1]:
        now += 10
        alerter.observe_rating(now, "general", rating)
        changes += alerter.evaluate(now, {"general": figures()})
        batches += len(alerter.due_notifications(now))
    assert states(changes) == ["firing"]
    assert changes[0].service == "general" and changes[0].threshold == 2.0
    assert batches == 1
    # the surge ends: the condition holds for the window after the last crossing, then
    # keep_firing_for, then one resolved notification
    for minute in range(1, 45):
        changes += alerter.evaluate(now + 60 * minute, {"general": figures()})
        batches += len(alerter.due_notifications(now + 60 * minute))
    assert states(changes) == ["firing", "resolved"]
    assert batches == 2


def test_the_min_count_guard_holds_back_a_surge_of_few_ratings() -> None:
    alerter = Alerter(load_rules(SURGE_RULE, SERVICES))
    for i in range(4):  # four low ratings in a row: S = 2.8 > h, but only 4 ratings
        alerter.observe_rating(T0 + i, "general", 1)
        assert alerter.evaluate(T0 + i, {"general": figures()}) == []
    alerter.observe_rating(T0 + 4, "general", 1)  # the fifth: now it may fire
    assert states(alerter.evaluate(T0 + 4, {"general": figures()})) == ["firing"]


def test_good_ratings_and_old_surges_do_not_fire() -> None:
    alerter = Alerter(load_rules(SURGE_RULE, SERVICES))
    for i, rating in enumerate([5, 1, 4, 5, 2, 5, 4, 1, 5, 5, 4, 5, 1, 4] * 3):
        alerter.observe_rating(T0 + i, "general", rating)
        assert alerter.evaluate(T0 + i, {"general": figures()}) == []
    # a surge replayed from yesterday's log does not fire today
    for i in range(8):
        alerter.observe_rating(T0 - 86400 + i, "benefits", 1)
    assert alerter.evaluate(T0 + 100, {"benefits": figures()}) == []


SILENCED = """
[route]
group_wait = "0s"
[[rule]]
name = "long-queue"
kind = "queue_length"
threshold = 3
[[silence]]
id = "works"
matchers = { rule = "long-queue", service = "permits" }
starts_at = 2025-12-02T00:00:00Z
ends_at = "2025-12-02T01:00:00+00:00"
created_by = "manager"
comment = "renovation"
"""


def test_silenced_alerts_change_state_and_show_but_are_not_delivered() -> None:
    alerter = Alerter(load_rules(SILENCED, SERVICES))
    changes = alerter.evaluate(T0 + 10, {"permits": figures(5), "general": figures(5)})
    by_service = {c.service: c for c in changes}
    assert by_service["permits"].state == "firing" and by_service["permits"].silenced
    assert not by_service["general"].silenced
    shown = {a["service"]: a["silenced"] for a in alerter.active(T0 + 10)}
    assert shown == {"general": False, "permits": True}
    sent = alerter.due_notifications(T0 + 10)
    assert [n.group_labels for n in sent] == [{"rule": "long-queue", "service": "general"}]
    # the silence ends: the permits alert is delivered then
    sent = alerter.due_notifications(T0 + 3600)
    assert [n.group_labels["service"] for n in sent] == ["permits"]
    assert alerter.active(T0 + 3600)[1]["silenced"] is False


def test_grouping_batches_with_group_wait_interval_and_repeat() -> None:
    text = """
[route]
group_by = ["rule"]
group_wait = "30s"
group_interval = "5m"
repeat_interval = "1h"
[[rule]]
name = "long-queue"
kind = "queue_length"
threshold = 3
"""
    alerter = Alerter(load_rules(text, SERVICES))
    alerter.evaluate(T0, {"general": figures(5), "permits": figures(0)})
    assert alerter.due_notifications(T0 + 10) == []  # group_wait
    alerter.evaluate(T0 + 20, {"general": figures(5), "permits": figures(9)})
    first = alerter.due_notifications(T0 + 30)
    assert len(first) == 1 and first[0].status == "firing"
    assert sorted(a.labels["service"] for a in first[0].alerts) == ["general", "permits"]
    assert first[0].group_key == '{}:{rule="long-queue"}'
    assert alerter.due_notifications(T0 + 31) == []  # nothing new
    alerter.evaluate(T0 + 60, {"general": figures(0), "permits": figures(9)})  # general resolves
    assert alerter.due_notifications(T0 + 120) == []  # changed, but within group_interval
    second = alerter.due_notifications(T0 + 330)
    assert [(a.labels["service"], a.status) for a in second[0].alerts] == [
        ("permits", "firing"),
        ("general", "resolved"),
    ]
    assert second[0].status == "firing"
    assert alerter.due_notifications(T0 + 1000) == []  # unchanged: wait for repeat_interval
    repeat = alerter.due_notifications(T0 + 330 + 3600)
    assert [a.labels["service"] for a in repeat[0].alerts] == ["permits"]
    alerter.evaluate(T0 + 4000, {"general": figures(0), "permits": figures(0)})
    last = alerter.due_notifications(T0 + 4000 + 300)
    assert last[0].status == "resolved"
    assert alerter.due_notifications(T0 + 10_000) == []  # the group is gone


def test_an_alert_resolved_before_its_group_was_sent_is_never_sent() -> None:
    text = """
[route]
group_wait = "1m"
[[rule]]
name = "long-queue"
kind = "queue_length"
threshold = 3
"""
    alerter = Alerter(load_rules(text, SERVICES))
    assert states(alerter.evaluate(T0, {"general": figures(5)})) == ["firing"]
    assert states(alerter.evaluate(T0 + 20, {"general": figures(0)})) == ["resolved"]
    assert alerter.due_notifications(T0 + 120) == []


def test_alertmanager_payload_shape() -> None:
    alerter = Alerter(load_rules(EXAMPLE.read_text(encoding="utf-8"), SERVICES))
    alerter.evaluate(T0, {"general": figures(12)})
    alerter.evaluate(T0 + 60, {"general": figures(12)})
    (note,) = alerter.due_notifications(T0 + 90)
    body = alertmanager_payload(note, "https://sp.example.org/")
    assert body == alerter.alertmanager_payload(note, "https://sp.example.org/")
    assert set(body) == {
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    }
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["receiver"] == "servicepoint" and body["truncatedAlerts"] == 0
    assert body["groupLabels"] == {"rule": "long-queue", "service": "general"}
    assert body["groupKey"] == '{}:{rule="long-queue", service="general"}'
    assert body["externalURL"] == "https://sp.example.org"
    assert body["commonLabels"]["alertname"] == "long-queue"
    (alert,) = body["alerts"]
    assert set(alert) == {
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
    }
    assert alert["labels"] == {
        "alertname": "long-queue",
        "rule": "long-queue",
        "kind": "queue_length",
        "service": "general",
        "severity": "warning",
    }
    assert alert["annotations"]["summary"] == "12 in the queue for general (more than 8)"
    assert alert["startsAt"] == "2025-12-02T00:01:00.000Z"
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert alert["fingerprint"] == fingerprint(alert["labels"])
    assert alert["generatorURL"].startswith("https://sp.example.org/")
    # resolved: endsAt is set
    alerter.evaluate(T0 + 100, {"general": figures(0)})
    alerter.evaluate(T0 + 220, {"general": figures(0)})
    (done,) = alerter.due_notifications(T0 + 400)
    resolved = alertmanager_payload(done, "https://sp.example.org")
    assert resolved["status"] == "resolved"
    assert resolved["alerts"][0]["endsAt"] == "2025-12-02T00:03:40.000Z"


def test_the_example_rules_file_loads_and_covers_every_kind() -> None:
    rules = load_rules(EXAMPLE.read_text(encoding="utf-8"), SERVICES)
    assert {r.kind for r in rules.rules} == {
        "wait_above_target",
        "queue_length",
        "feedback_surge",
        "no_staff",
        "qa_overdue",
    }
    assert rules.route.group_by == ("rule", "service") and rules.silences == ()
    # the commented-out silence is valid once uncommented
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("# [[silence]]")
    silence = "\n".join(line.removeprefix("# ") for line in text[start:].splitlines())
    assert len(load_rules(text + "\n" + silence, SERVICES).silences) == 1


def test_a_toml_syntax_error_names_the_line() -> None:
    text = '[[rule]]\nname = "a"\nkind = "queue_length"\nthreshold = = 3\n'
    with pytest.raises(RuleError) as e:
        load_rules(text)
    assert e.value.line == 4 and str(e.value).startswith("line 4: ")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            '[[rule]]\nname = "a"\nkind = "queue_length"\nthreshold = 1\n\n'
            '[[rule]]\nname = "b"\nkind = "queue_lenght"\n',
            8,
            "unknown kind",
        ),
        (
            '[[rule]]\nname = "a"\nkind = "queue_length"\nthreshold = 1\nfor = "5 minutes"\n',
            5,
            "not a duration",
        ),
        (
            '[[rule]]\nname = "a"\nkind = "queue_length"\nthreshold = 1\nservices = ["nope"]\n',
            5,
            "unknown service 'nope'",
        ),
        (
            '[[rule]]\nname = "a"\nkind = "no_staff"\n\n[[rule]]\nname = "b"\n'
            'kind = "queue_length"\n',
            5,
            "missing 'threshold'",
        ),
        ('[[rule]]\nkind = "no_staff"\n', 1, "missing 'name'"),
        ('[[rule]]\nname = "a"\nkind = "no_staff"\nthreshold = 2\n', 4, "unknown key"),
        (
            '[[rule]]\nname = "a"\nkind = "no_staff"\n[rule.annotations]\nsummary = "{nope}"\n',
            5,
            "bad template",
        ),
        ('[route]\ngroup_by = ["rule"]\ngroup_wait = "soon"\n', 3, "not a duration"),
        (
            '[[silence]]\nmatchers = { service = "general" }\nstarts_at = 2025-12-02T10:00:00\n'
            "ends_at = 2025-12-02T11:00:00Z\n",
            3,
            "UTC offset",
        ),
        (
            '[[rule]]\nname = "a"\nkind = "no_staff"\n[[rule]]\nname = "a"\nkind = "no_staff"\n',
            5,
            "defined twice",
        ),
        ("[alerts]\nx = 1\n", 1, "unknown table"),
    ],
)
def test_a_semantic_error_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(RuleError) as e:
        load_rules(text, SERVICES)
    assert e.value.line == line, str(e.value)
    assert words in str(e.value) and str(e.value).startswith(f"line {line}: ")


def test_an_invalid_file_leaves_the_last_good_rules_in_force() -> None:
    """The caller's reload: parse first, replace only on success."""
    alerter = Alerter(load_rules(QUEUE_RULE, SERVICES))
    alerter.evaluate(T0, {"general": figures(5)})

    def reload(text: str) -> str | None:
        try:
            rules = load_rules(text, SERVICES)
        except RuleError as e:
            return str(e)
        alerter.replace(rules)
        return None

    error = reload(QUEUE_RULE.replace("threshold = 3", "threshold = three"))
    assert error is not None and error.startswith("line 11: TOML: ")
    assert states(alerter.evaluate(T0 + 20, {"general": figures(5)})) == ["firing"]
    # a good reload keeps the state of a rule that is still there
    assert reload(QUEUE_RULE.replace("threshold = 3", "threshold = 4")) is None
    assert alerter.evaluate(T0 + 25, {"general": figures(5)}) == []
    assert [a["state"] for a in alerter.active(T0 + 25)] == ["firing"]
    assert alerter.active(T0 + 25)[0]["threshold"] == 4.0
    # removing the rule drops its alerts; a notified alert goes out resolved
    alerter.due_notifications(T0 + 30)
    assert reload("") is None
    assert alerter.active(T0 + 35) == []
    assert alerter.due_notifications(T0 + 60) == []  # the new route: group_interval 5m
    (note,) = alerter.due_notifications(T0 + 330)
    assert note.status == "resolved"


def test_replace_with_an_empty_rule_set() -> None:
    alerter = Alerter(RuleSet())
    assert alerter.evaluate(T0, {"general": figures(99)}) == []
    assert alerter.due_notifications(T0) == [] and alerter.active(T0) == []
