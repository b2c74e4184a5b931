"""Training scenarios: data files (``server/data/training/*.toml``), loaded and checked.

A scenario file::

    id = "angry-citizen"
    start = "opening"                       # the first node
    title = { sv = "...", da = "...", de = "...", ja = "...", en = "..." }

    [[rubric]]                              # the criteria and their max points
    id = "empathy"
    max = 2
    name = { sv = "...", ... }

    [nodes.opening]
    line = { sv = "...", ... }              # the citizen's line, in the five languages
    speech = { ja = "..." }                 # optional: what the speech synthesiser reads instead
    clip = { sv = "clips/opening.sv.wav" }  # optional: a stored clip (relative to the file)
    [[nodes.opening.choices]]
    id = "acknowledge"
    text = { sv = "...", ... }
    next = "calmer"
    points = { empathy = 2 }

    [nodes.calm_end]
    end = true                              # an end node: no choices; the debrief follows
    line = { ... }

The score of a run is the sum over criteria of min(points earned, max), over
the sum of the max points (0..1). Pure: no I/O but reading the files.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.plug import StartupError

LANGS = ("sv", "da", "de", "ja", "en")
"""Every text of a scenario is given in these five languages."""
SHIPPED_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "training"


class ScenarioError(StartupError):
    """A scenario file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Choice:
    id: str
    text: Mapping[str, str]
    next: str
    points: Mapping[str, int]


@dataclass(frozen=True)
class Node:
    id: str
    line: Mapping[str, str]
    speech: Mapping[str, str]
    """What the speech synthesiser reads, by language (defaults to ``line``)."""
    clips: Mapping[str, Path]
    """Stored clips by language (absolute paths); other languages are synthesised."""
    choices: tuple[Choice, ...]
    end: bool

    def choice(self, choice_id: str) -> Choice | None:
        return next((c for c in self.choices if c.id == choice_id), None)

    def speech_text(self, lang: str) -> str:
        return self.speech.get(lang) or self.line[lang]


@dataclass(frozen=True)
class Criterion:
    id: str
    max: int
    name: Mapping[str, str]


@dataclass(frozen=True)
class Scenario:
    id: str
    title: Mapping[str, str]
    start: str
    nodes: Mapping[str, Node]
    rubric: tuple[Criterion, ...]
    path: Path

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def score(self, earned: Mapping[str, int]) -> tuple[float, list[tuple[Criterion, int]]]:
        """The score (0..1) and the points per criterion (capped at its max)."""
        rows = [(c, min(max(earned.get(c.id, 0), 0), c.max)) for c in self.rubric]
        total = sum(c.max for c in self.rubric)
        return (sum(p for _c, p in rows) / total if total else 0.0), rows

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "title": dict(self.title), "langs": list(LANGS)}


def _texts(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a table of language = text")
    missing = [lang for lang in LANGS if not isinstance(value.get(lang), str) or not value[lang]]
    if missing:
        raise ValueError(f"{where} lacks a text in {', '.join(missing)}")
    extra = sorted(set(value) - set(LANGS))
    if extra:
        raise ValueError(f"{where} has unknown languages {extra}")
    return {lang: str(value[lang]) for lang in LANGS}


def _keys(table: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table")
    extra = sorted(set(table) - allowed)
    if extra:
        raise ValueError(f"{where} has unknown keys {extra}")
    return table


def _id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise ValueError(f"{where} must be an id of 1 to 64 characters")
    return value


def parse_scenario(path: Path) -> Scenario:
    """Load one scenario file; `ScenarioError` naming the file if it is malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return _parse(data, path)
    except (OSError, tomllib.TOMLDecodeError, ValueError, TypeError, KeyError) as exc:
        raise ScenarioError(f"training scenario {path}: {exc}") from exc


def _parse(data: dict[str, Any], path: Path) -> Scenario:
    _keys(data, {"id", "title", "start", "rubric", "nodes"}, "the file")
    scenario_id = _id(data.get("id"), "id")
    title = _texts(data.get("title"), "title")
    rubric: list[Criterion] = []
    for i, c in enumerate(data.get("rubric", [])):
        c = _keys(c, {"id", "max", "name"}, f"rubric[{i}]")
        cid = _id(c.get("id"), f"rubric[{i}].id")
        top = c.get("max")
        if not isinstance(top, int) or isinstance(top, bool) or not 0 < top <= 1000:
            raise ValueError(f"rubric {cid}: max must be a whole number from 1 to 1000")
        if any(r.id == cid for r in rubric):
            raise ValueError(f"rubric {cid} is listed twice")
        rubric.append(Criterion(cid, top, _texts(c.get("name"), f"rubric {cid}.name")))
    if not rubric:
        raise ValueError("the rubric needs at least one criterion")
    criteria = {c.id for c in rubric}
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise ValueError("nodes must be a table of at least one node")
    nodes: dict[str, Node] = {}
    for nid, n in raw_nodes.items():
        _id(nid, f"nodes.{nid}")
        where = f"nodes.{nid}"
        n = _keys(n, {"line", "speech", "clip", "choices", "end"}, where)
        end = n.get("end", False)
        if not isinstance(end, bool):
            raise ValueError(f"{where}.end must be true or false")
        speech = n.get("speech", {})
        if not isinstance(speech, dict) or set(speech) - set(LANGS):
            raise ValueError(f"{where}.speech must be a table of language = text")
        clips: dict[str, Path] = {}
        for lang, rel in _keys(n.get("clip", {}), set(LANGS), f"{where}.clip").items():
            clip = (path.parent / str(rel)).resolve()
            if not clip.is_file():
                raise ValueError(f"{where}.clip.{lang}: the audio file {clip} does not exist")
            clips[lang] = clip
        choices: list[Choice] = []
        for i, ch in enumerate(n.get("choices", [])):
            cw = f"{where}.choices[{i}]"
            ch = _keys(ch, {"id", "text", "next", "points"}, cw)
            cid = _id(ch.get("id"), f"{cw}.id")
            if any(c.id == cid for c in choices):
                raise ValueError(f"{where}: choice {cid} is listed twice")
            points = _keys(ch.get("points", {}), criteria, f"{cw}.points")
            for k, v in points.items():
                if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                    raise ValueError(f"{cw}.points.{k} must be a whole number >= 0")
            choices.append(
                Choice(cid, _texts(ch.get("text"), f"{cw}.text"), _id(ch.get("next"), cw), points)
            )
        if end and choices:
            raise ValueError(f"{where} is an end node and cannot have choices")
        if not end and not choices:
            raise ValueError(f"{where} needs choices, or end = true")
        nodes[nid] = Node(
            nid,
            _texts(n.get("line"), f"{where}.line"),
            {str(k): str(v) for k, v in speech.items()},
            clips,
            tuple(choices),
            end,
        )
    start = _id(data.get("start"), "start")
    if start not in nodes:
        raise ValueError(f"start names no node: {start!r}")
    for node in nodes.values():
        for ch in node.choices:
            if ch.next not in nodes:
                raise ValueError(f"nodes.{node.id}: choice {ch.id} leads to no node {ch.next!r}")
    _check_reachable_end(nodes, start)
    return Scenario(scenario_id, title, start, nodes, tuple(rubric), path)


def _check_reachable_end(nodes: Mapping[str, Node], start: str) -> None:
    """Every node reachable from the start can still reach an end node (no dead loops)."""
    reachable, todo = {start}, [start]
    while todo:
        for ch in nodes[todo.pop()].choices:
            if ch.next not in reachable:
                reachable.add(ch.next)
                todo.append(ch.next)
    ends = {nid for nid in reachable if nodes[nid].end}
    changed = True
    while changed:
        changed = False
        for nid in reachable - ends:
            if any(ch.next in ends for ch in nodes[nid].choices):
                ends.add(nid)
                changed = True
    stuck = sorted(reachable - ends)
    if stuck:
        raise ValueError(f"no end node can be reached from {', '.join(stuck)}")


def load_scenarios(directory: Path) -> dict[str, Scenario]:
    """Every ``*.toml`` in ``directory``, by id; `ScenarioError` naming the file on a fault."""
    if not directory.is_dir():
        raise ScenarioError(f"training scenarios: {directory} is not a directory")
    out: dict[str, Scenario] = {}
    for path in sorted(directory.glob("*.toml")):
        scenario = parse_scenario(path)
        if scenario.id in out:
            raise ScenarioError(
                f"training scenario {path}: id {scenario.id!r} is also used by "
                f"{out[scenario.id].path}"
            )
        out[scenario.id] = scenario
    return out
