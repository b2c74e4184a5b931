"""Fixtures for the browser tests: a real server and a real Chromium.

``server``  starts ``python -m server run`` on a free port with a temporary data
            directory (embedded Redis) and a known token secret, waits for
            ``/healthz``, and stops it with SIGTERM (then SIGKILL) afterwards.
``hall``    the same, for one test only (desk tests need a queue of their own).
``browser`` launches Debian's Chromium through Playwright (WebGL through
            SwiftShader, so the 3D view is exercised).
``media_browser`` Chromium with a fake microphone (a beep) and camera, and
            permission prompts answered "allow", for desk calls.
``agents`` runs `agents.client.AgentClient`s (asyncio) on a loop in a
            background thread, next to Playwright's synchronous API.
``open_page`` opens a page in a fresh context (its own storage), collecting
            console errors, uncaught exceptions and the page's own protocol
            warnings; every test using it fails if any page logged one.
            ``csp=True`` serves the page with the Content-Security-Policy the
            server is to send (`content_security_policy`), hashing the inline
            scripts of the HTML as served; SERVICEPOINT_TEST_CSP=1 makes that
            the default for every page.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    from server.app import ServicePoint

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
    # Pages the `csp` option serves through a Playwright route have no address of
    # their own, and Chromium would then refuse their WebSocket to 127.0.0.1.
    "--disable-features=LocalNetworkAccessChecks",
]
WEBGL_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",  # the microphone plays a beep
    "--use-fake-ui-for-media-stream",  # getUserMedia is allowed without a prompt
    "--autoplay-policy=no-user-gesture-required",
    # The server's voice candidates are on 127.0.0.1 (SERVICEPOINT_VOICE_HOSTS),
    # which Chromium leaves out of ICE unless told otherwise.
    "--allow-loopback-in-peer-connection",
]


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


class ServerProcess:
    """``python -m server run`` as a child process; start() waits for /healthz."""

    def __init__(self, data: Path, port: int | None = None) -> None:
        self.data = data
        self.port = port or _free_port()
        self.env = {
            **os.environ,
            "SERVICEPOINT_SECRET": SECRET,
            "PYTHONUNBUFFERED": "1",
            # ICE on loopback: the browser, the agents and the server share this machine.
            "SERVICEPOINT_VOICE_HOSTS": "127.0.0.1",
        }
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        log = (self.data / "server.log").open("a")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while not _healthy(self.url):
            if self.proc.poll() is not None:
                pytest.fail(f"server exited ({self.proc.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"server not healthy in 30 s:\n{self.log()}")
            time.sleep(0.1)
        return Server(self.url, self.env)

    def stop(self) -> None:
        """SIGTERM (graceful shutdown), then SIGKILL if it does not exit in 10 s."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def log(self) -> str:
        path = self.data / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    proc = ServerProcess(tmp_path_factory.mktemp("servicepoint-data"))
    try:
        yield proc.start()
    finally:
        proc.stop()


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Server]:
    """A server of the test's own (a fresh queue: no ticket of another test is the
    longest waiting). List it before `open_page`, so its pages close first."""
    proc = ServerProcess(tmp_path)
    try:
        yield proc.start()
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    # `make test` installs all of these; a missing one is a failure, never a skip.
    import playwright.sync_api as sync_api

    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    assert (WEB / "node_modules" / "three").is_dir(), (
        "clients/web/node_modules is missing: run `npm ci` in clients/web"
    )
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


@pytest.fixture(scope="session")
def media_browser(playwright: Any) -> Iterator[Any]:
    # The map view (no WebGL) keeps the CPU for audio.
    b = _launch(playwright, ["--disable-3d-apis", "--disable-webgl", *MEDIA_ARGS])
    yield b
    b.close()


class AgentLoop:
    """An asyncio loop in a daemon thread, for agents next to Playwright's sync API.

    ``run(coro)`` runs a coroutine there and returns its result (or raises).
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_rest(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def agents() -> Iterator[AgentLoop]:
    loop = AgentLoop()
    yield loop
    loop.close()


def own_server(agents: AgentLoop, data_dir: Path, **options: Any) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process, on the agents' loop (``options`` go
    to `running_server`); ``yield from`` it in a fixture listed before `open_page`."""
    from tests.server.harness import running_server

    cm = running_server(data_dir, **options)
    server: ServicePoint = agents.run(cm.__aenter__())
    try:
        yield server
    finally:
        agents.run(cm.__aexit__(None, None, None))


WAIT_MS = 20_000


def url(sp: ServicePoint) -> str:
    """The page address of a server started by `own_server`."""
    return f"http://127.0.0.1:{sp.port}"


def state(page: Any) -> dict[str, Any]:
    """The web client's test hook: ``window.servicepoint.state()``."""
    result: dict[str, Any] = page.evaluate("window.servicepoint.state()")
    return result


def wait_state(page: Any, condition: str, timeout: int = WAIT_MS) -> dict[str, Any]:
    """Wait until ``condition`` (JS over ``s``, the state) holds; return the state."""
    page.wait_for_function(
        f"() => {{ const s = window.servicepoint.state(); return Boolean({condition}); }}",
        timeout=timeout,
    )
    return state(page)


@dataclass
class PageLog:
    """What a page said that it should not have (errors), and everything it said."""

    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_script_hashes(html: str) -> list[str]:
    """'sha256-...' of each inline <script> (the import map), as CSP hashes them."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def content_security_policy(html: str) -> str:
    """The policy the server sends with every page (script hashes from `html`)."""
    scripts = " ".join(["'self'", *inline_script_hashes(html)])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
        "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


def _with_csp(route: Any) -> None:
    response = route.fetch()
    headers = {
        **response.headers,
        "content-security-policy": content_security_policy(response.text()),
    }
    route.fulfill(response=response, headers=headers)


def _is_page(url: str) -> bool:
    from urllib.parse import urlsplit

    return urlsplit(url).path in ("/", "/index.html")


OpenPage = Callable[..., Any]


@pytest.fixture
def open_page(server: Server, browser: Any) -> Iterator[OpenPage]:
    contexts: list[Any] = []
    logs: list[tuple[str, PageLog]] = []

    def _open(
        path: str = "/",
        *,
        lang: str = "en-US",
        on: Any = None,
        base: str | None = None,
        allow: tuple[str, ...] = (),
        init_script: str | None = None,
        csp: bool | None = None,
        setup: Callable[[Any], None] | None = None,
    ) -> Any:
        """Open ``path`` (on ``base``, default the session server). Console errors
        containing any of ``allow`` are expected (e.g. while a server is down).
        ``setup(page)`` runs before the page loads (routes, listeners)."""
        ctx = (on or browser).new_context(locale=lang, viewport={"width": 1280, "height": 800})
        contexts.append(ctx)
        # The hall takes a role token from its developer field, never from the address: a
        # `?token=` in `path` is handed over through sessionStorage instead (once).
        parts = urlsplit(path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        given = [v for k, v in query if k == "token"]
        if given and parts.path in ("", "/", "/index.html"):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            path = urlunsplit(("", "", parts.path or "/", rest, parts.fragment))
            ctx.add_init_script(
                "if (!sessionStorage.getItem('servicepoint.devtoken.given')) {"
                f" sessionStorage.setItem('servicepoint.devtoken', {json.dumps(given[0])});"
                " sessionStorage.setItem('servicepoint.devtoken.given', '1'); }"
            )
        if init_script:
            ctx.add_init_script(init_script)
        if csp if csp is not None else os.environ.get("SERVICEPOINT_TEST_CSP") == "1":
            ctx.route(_is_page, _with_csp)
        page = ctx.new_page()
        log = PageLog()
        logs.append((path, log))

        def on_console(m: Any) -> None:
            log.console.append(f"console.{m.type}: {m.text}")
            # The page warns with a "servicepoint:" prefix when the server sends
            # something the protocol does not allow: that is a failure too.
            ours = m.type == "warning" and m.text.startswith("servicepoint:")
            if (m.type == "error" or ours) and not any(a in m.text for a in allow):
                log.errors.append(f"console.{m.type}: {m.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda e: log.errors.append(f"pageerror: {e}"))
        if setup:
            setup(page)
        page.goto((base or server.url) + path)
        page.wait_for_function("() => window.servicepoint !== undefined", timeout=15_000)
        page.page_log = log
        return page

    yield _open
    for ctx in contexts:
        ctx.close()
    problems = [f"{path}: {e}" for path, log in logs for e in log.errors]
    assert not problems, "pages logged errors:\n" + "\n".join(problems)


def docs_screenshot(page: Any, name: str) -> None:
    """Save the page as ``<name>.png`` in $SERVICEPOINT_DOCS_SCREENSHOTS, if set: the
    pictures in docs/screenshots/ are taken by the tests that reach those views
    (see docs/screenshots/README.md). Without the variable it does nothing."""
    folder = os.environ.get("SERVICEPOINT_DOCS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def join(page: Any, name: str, avatar: str = "round") -> dict[str, Any]:
    """Fill the join form with the keyboard-accessible controls and wait until joined."""
    page.fill("#join-name", name)
    page.check(f"#join-form input[name=avatar][value={avatar}]")
    page.click("#join-submit")
    page.wait_for_function("() => window.servicepoint.state().connected", timeout=15_000)
    state: dict[str, Any] = page.evaluate("window.servicepoint.state()")
    return state


def node_json(script: str, data: Any = None) -> Any:
    """Run an ES module snippet with node in clients/web and parse its JSON output.
    ``data`` (if given) is sent as JSON on stdin."""
    import json

    node = shutil.which("node")
    assert node is not None, "Node.js is needed for the web client"
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        cwd=WEB,
        input=None if data is None else json.dumps(data),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, f"node failed ({out.returncode}):\n{out.stderr[-4000:]}"
    return json.loads(out.stdout)
