"""The example Prometheus rules and Grafana dashboard in docs/ use only exported metrics and
are valid: checked by promtool when it is installed, and always against the rules schema."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "prometheus" / "servicepoint-rules.yml"
RULES_TEST = ROOT / "docs" / "prometheus" / "servicepoint-rules.test.yml"
DASHBOARD = ROOT / "docs" / "grafana" / "servicepoint-dashboard.json"

# what the insight feature exports (gauges by service; the counter by service and outcome)
METRICS = {
    "servicepoint_insight_queue_length",
    "servicepoint_insight_current_wait_seconds",
    "servicepoint_insight_target_wait_seconds",
    "servicepoint_insight_staff_on_duty",
    "servicepoint_insight_service_level_ratio",
    "servicepoint_insight_csat_ratio",
    "servicepoint_insight_cases_total",
}
LABELS = {"service", "outcome"}
METRIC_USE = re.compile(r"(?<![\w:])(servicepoint_insight_\w+)")
RECORD_USE = re.compile(r"(?<![\w:])([a-z_]+:[\w:]+)")
DURATION = re.compile(r"^((\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?|0)$")
RECORD_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def string_map(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and LABEL_NAME.match(k) and isinstance(v, str) for k, v in value.items()
    )


def check_rules_schema(doc: Any) -> list[dict[str, Any]]:
    """Prometheus' rule file schema (groups → rules); returns every rule."""
    assert isinstance(doc, dict) and set(doc) == {"groups"}, "a rules file has only `groups`"
    assert isinstance(doc["groups"], list) and doc["groups"]
    names: set[str] = set()
    rules: list[dict[str, Any]] = []
    for group in doc["groups"]:
        assert isinstance(group, dict) and set(group) <= {"name", "interval", "limit", "rules"}
        assert isinstance(group.get("name"), str) and group["name"] not in names
        names.add(group["name"])
        if "interval" in group:
            assert DURATION.match(group["interval"]), group["interval"]
        assert isinstance(group.get("rules"), list) and group["rules"], group["name"]
        for rule in group["rules"]:
            assert isinstance(rule, dict) and isinstance(rule.get("expr"), str | int), rule
            if "alert" in rule:
                assert "record" not in rule, rule
                allowed = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
                assert set(rule) <= allowed, set(rule) - allowed
                assert isinstance(rule["alert"], str) and LABEL_NAME.match(rule["alert"])
                for key in ("for", "keep_firing_for"):
                    if key in rule:
                        assert DURATION.match(str(rule[key])), rule[key]
                assert string_map(rule.get("annotations", {})), rule["alert"]
            else:
                assert set(rule) <= {"record", "expr", "labels"}, rule
                assert isinstance(rule.get("record"), str) and RECORD_NAME.match(rule["record"])
            assert string_map(rule.get("labels", {})), rule
            rules.append(rule)
    return rules


def test_the_rules_file_follows_the_schema_and_uses_exported_metrics() -> None:
    rules = check_rules_schema(yaml.safe_load(RULES.read_text(encoding="utf-8")))
    alerts = [r for r in rules if "alert" in r]
    recorded = {r["record"] for r in rules if "record" in r}
    assert len(alerts) >= 5 and recorded
    assert len({r["alert"] for r in alerts}) == len(alerts)
    used: set[str] = set()
    for rule in rules:
        expr = str(rule["expr"])
        used |= set(METRIC_USE.findall(expr))
        for name in RECORD_USE.findall(expr):
            assert name in recorded, f"{name} is not recorded by the file"
        for labels in re.findall(r"\bby \(([^)]*)\)|\bon \(([^)]*)\)", expr):
            for label in ",".join(labels).split(","):
                assert not label.strip() or label.strip() in LABELS, label
        assert rule.get("labels", {}).get("severity", "warning") in {"info", "warning", "critical"}
    assert used <= METRICS, used - METRICS
    assert used == METRICS  # every exported figure has a rule


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    # `make test` installs Debian's prometheus (promtool); without it this is a failure,
    # not a skip, so a machine that cannot check the rules never passes silently.
    assert shutil.which("promtool"), "promtool is missing: run `make promtool` (as root)"
    check = subprocess.run(
        ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout + check.stderr
    unit = subprocess.run(
        ["promtool", "test", "rules", RULES_TEST.name],
        cwd=RULES_TEST.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unit.returncode == 0, unit.stdout + unit.stderr


def test_the_rules_unit_test_file_parses() -> None:
    doc = yaml.safe_load(RULES_TEST.read_text(encoding="utf-8"))
    assert doc["rule_files"] == [RULES.name] and doc["tests"]
    for case in doc["tests"]:
        for series in case["input_series"]:
            assert set(METRIC_USE.findall(series["series"])) <= METRICS


def exprs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in ("expr", "definition") and isinstance(v, str)]
        query = node.get("query")
        if isinstance(query, dict) and isinstance(query.get("query"), str):
            found.append(query["query"])
        return found + [e for v in node.values() for e in exprs(v)]
    if isinstance(node, list):
        return [e for v in node for e in exprs(v)]
    return []


def test_the_grafana_dashboard_is_valid_and_uses_exported_metrics() -> None:
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dash["__inputs"][0]["name"] == "DS_PROMETHEUS"
    assert dash["__inputs"][0]["pluginId"] == "prometheus"
    assert isinstance(dash["title"], str) and dash["uid"] and dash["schemaVersion"] >= 30
    panels = dash["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["targets"] and all(
            t["datasource"]["uid"] == "${DS_PROMETHEUS}" for t in panel["targets"]
        )
    used = {m for e in exprs(dash) for m in METRIC_USE.findall(e)}
    assert used <= METRICS, used - METRICS
    titles = " ".join(p["title"].lower() for p in panels)
    for topic in ("queue", "wait", "target", "service level", "csat", "staff on duty"):
        assert topic in titles, topic
    # by service, never by person
    assert not re.search(r"\b(staff|desk|citizen|subject)\s*=", " ".join(exprs(dash)))


@pytest.mark.parametrize(
    "doc",
    [
        {"groups": [{"name": "g", "rules": [{"alert": "A"}]}]},  # no expr
        {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up", "for": "5 min"}]}]},
        {"groups": [{"name": "g", "rules": [{"alert": "A", "record": "b", "expr": "up"}]}]},
        {"groups": [{"name": "g", "rules": [{"record": "a b", "expr": "up"}]}]},
        {"groups": [{"rules": [{"alert": "A", "expr": "up"}]}]},  # no group name
        {"rules": []},
    ],
)
def test_the_schema_check_refuses_a_broken_file(doc: Any) -> None:
    with pytest.raises(AssertionError):
        check_rules_schema(doc)
