"""Lighthouse's accessibility audits score 100 on every page of the web client.

Lighthouse 12 (tests/lighthouse, pinned; `make setup` installs it) runs in Node
against Debian's Chromium, started here once for the module: headless, an empty
profile, no background networking, WebGL through SwiftShader (as the `browser`
fixture), and a DevTools port for Lighthouse to drive (tests/lighthouse/run.mjs).
Each page is one Lighthouse user flow with Lighthouse's defaults (mobile
emulation, storage reset): the hall (and, after joining, a snapshot of the hall
with its panels), the Q&A wall, the events page and the manager's dashboard
(signed out, then signed in with a development manager token).

Asserted: accessibility is 100 on every step (the message lists the failing
audits and their elements). Best practices and performance are printed, one
JSON line per step, never asserted: performance under SwiftShader on a shared
machine says little about a phone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import CHROMIUM, ROOT, WEBGL_ARGS, Server

LIGHTHOUSE = ROOT / "tests" / "lighthouse"
RUNNER = LIGHTHOUSE / "run.mjs"
CATEGORIES = ["accessibility", "best-practices", "performance"]
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    *WEBGL_ARGS,
]
# One Lighthouse run covers the module (about 45 s here, more on a loaded machine).
pytestmark = pytest.mark.timeout(240)
STEPS = ["hall", "hall joined", "qa", "events", "dashboard", "dashboard signed in"]


def plan(server: Server, port: int) -> dict[str, Any]:
    """What run.mjs audits: each page, and for two of them a state after a form."""
    return {
        "port": port,
        "categories": CATEGORIES,
        "pages": [
            {
                "name": "hall",
                "url": server.url + "/",
                "then": {
                    "fill": [["#join-name", "Lena"]],
                    "press": ["#join-name", "Enter"],
                    "ready": "s.connected",
                    "name": "hall joined",
                },
            },
            {"name": "qa", "url": server.url + "/qa.html"},
            {"name": "events", "url": server.url + "/events.html"},
            {
                "name": "dashboard",
                "url": server.url + "/dashboard.html",
                "then": {
                    "waitBefore": "s.session.loaded",
                    "fill": [["#signin-token", server.token("manager", "Mia Berg")]],
                    "press": ["#signin-token", "Enter"],
                    "ready": "s.data",
                    "name": "dashboard signed in",
                },
            },
        ],
    }


def devtools_port(profile: Path, proc: subprocess.Popen[bytes]) -> int:
    """The port Chromium chose (--remote-debugging-port=0), from its profile's
    DevToolsActivePort file, once Chromium has written it."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not (active.is_file() and active.read_text().strip()):
        assert proc.poll() is None, f"Chromium exited ({proc.returncode})"
        assert time.monotonic() < deadline, "Chromium opened no DevTools port in 30 s"
        time.sleep(0.05)
    return int(active.read_text().split()[0])


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Debian's Chromium with an empty profile; yields its DevTools port."""
    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    profile = tmp_path_factory.mktemp("lighthouse-profile")
    proc = subprocess.Popen(
        [
            CHROMIUM,
            *CHROMIUM_ARGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield devtools_port(profile, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def lighthouse(server: Server, chromium: int) -> dict[str, dict[str, Any]]:
    """Every step's result line from run.mjs, by step name (one run for the module)."""
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for Lighthouse"
    assert (LIGHTHOUSE / "node_modules" / "lighthouse").is_dir(), (
        "tests/lighthouse/node_modules is missing: run `make setup`"
    )
    out = subprocess.run(
        [node, str(RUNNER)],
        cwd=LIGHTHOUSE,
        input=json.dumps(plan(server, chromium)),
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert out.returncode == 0, f"Lighthouse failed ({out.returncode}):\n{out.stderr[-4000:]}"
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {line["page"]: line for line in lines}


@pytest.mark.parametrize("step", STEPS)
def test_lighthouse_accessibility_is_100(lighthouse: dict[str, dict[str, Any]], step: str) -> None:
    assert step in lighthouse, f"Lighthouse reported no {step!r}: {sorted(lighthouse)}"
    result = lighthouse[step]
    scores = result["scores"]
    print(
        json.dumps(
            {
                "lighthouse": step,
                "mode": result["mode"],
                "accessibility": scores.get("accessibility"),
                "best_practices": scores.get("best-practices"),
                "performance": scores.get("performance"),
                "best_practices_failing": [a["id"] for a in result["failing"]["best-practices"]],
                "metrics": result.get("metrics"),
                "seconds": result["seconds"],
            }
        )
    )
    assert "runtimeError" not in result, result["runtimeError"]
    failing = result["failing"]["accessibility"]
    assert scores["accessibility"] == 100, f"{step}: accessibility {scores['accessibility']}:\n" + (
        "\n".join(f"{a['id']} ({a['title']}): {a['items']}" for a in failing)
    )
