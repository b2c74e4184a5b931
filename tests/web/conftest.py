"""Fixtures for the browser tests: a real server and a real Chromium.

``server``  starts ``python -m server run`` on a free port with a temporary data
            directory (embedded Redis) and a known token secret, waits for
            ``/healthz``, and stops it with SIGTERM (then SIGKILL) afterwards.
``browser`` launches Debian's Chromium through Playwright (WebGL through
            SwiftShader, so the 3D view is exercised).
``open_page`` opens a page in a fresh context (its own storage), collecting
            console errors and uncaught exceptions; every test using it fails
            if any page logged one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "clients" / "web"
CHROMIUM = os.environ.get("SERVICEPOINT_CHROMIUM", "/usr/bin/chromium")
SECRET = "web-test-secret-not-for-production"

BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WEBGL_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@dataclass
class Server:
    url: str
    env: dict[str, str]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def token(self, role: str, name: str) -> str:
        """Mint a role token with the server's secret (``python -m server token``)."""
        out = subprocess.run(
            [sys.executable, "-m", "server", "token", "--role", role, "--name", name],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("servicepoint-data")
    port = _free_port()
    env = {**os.environ, "SERVICEPOINT_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    log = (data / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(data)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _healthy(url):
            if proc.poll() is not None:
                log.flush()
                pytest.fail(f"server exited ({proc.returncode}):\n{(data / 'server.log').read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"server not healthy in 30 s:\n{(data / 'server.log').read_text()}")
            time.sleep(0.1)
        yield Server(url, env)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        log.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():  # pragma: no cover - depends on the machine
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    if not (WEB / "node_modules" / "three").is_dir():  # pragma: no cover
        pytest.skip("clients/web/node_modules is missing: run `npm ci` in clients/web")
    with sync_api.sync_playwright() as p:
        yield p


def _launch(playwright: Any, extra: list[str]) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*BASE_ARGS, *extra])


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    b = _launch(playwright, WEBGL_ARGS)
    yield b
    b.close()


@pytest.fixture(scope="session")
def browser_without_webgl(playwright: Any) -> Iterator[Any]:
    b = _launch(playwright, ["--disable-3d-apis", "--disable-webgl"])
    yield b
    b.close()


@dataclass
class PageLog:
    """What a page said that it should not have."""

    errors: list[str] = field(default_factory=list)


OpenPage = Callable[..., Any]


@pytest.fixture
def open_page(server: Server, browser: Any) -> Iterator[OpenPage]:
    contexts: list[Any] = []
    logs: list[tuple[str, PageLog]] = []

    def _open(path: str = "/", *, lang: str = "en-US", on: Any = None) -> Any:
        ctx = (on or browser).new_context(locale=lang, viewport={"width": 1280, "height": 800})
        contexts.append(ctx)
        page = ctx.new_page()
        log = PageLog()
        logs.append((path, log))
        page.on(
            "console",
            lambda m: log.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: log.errors.append(f"pageerror: {e}"))
        page.goto(server.url + path)
        page.wait_for_function("window.servicepoint !== undefined", timeout=15_000)
        page.page_log = log
        return page

    yield _open
    for ctx in contexts:
        ctx.close()
    problems = [f"{path}: {e}" for path, log in logs for e in log.errors]
    assert not problems, "pages logged errors:\n" + "\n".join(problems)


def join(page: Any, name: str, avatar: str = "round") -> dict[str, Any]:
    """Fill the join form with the keyboard-accessible controls and wait until joined."""
    page.fill("#join-name", name)
    page.check(f"#join-form input[name=avatar][value={avatar}]")
    page.click("#join-submit")
    page.wait_for_function("window.servicepoint.state().connected", timeout=15_000)
    state: dict[str, Any] = page.evaluate("window.servicepoint.state()")
    return state


def node_json(script: str) -> Any:
    """Run an ES module snippet with node in clients/web and parse its JSON output."""
    import json

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(out.stdout)
