"""The plain HTTP routes: web client, health, metrics; security headers and the origin check."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import urllib.error
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from agents.client import AgentClient
from tests.server.harness import http_url, running_server, ws_url


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


async def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    return await asyncio.to_thread(_get, url)


async def test_health_and_metrics(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        status, _, body = await fetch(http_url(sp, "/healthz"))
        assert status == 200 and body == b"ok\n"
        async with AgentClient(ws_url(sp), name="Ada") as ada:
            await ada.send_raw(b"\xc1")
            await ada.expect("error")
            await ada.wait_for(lambda: ada.stats.frames > 3)
            await ada.chat("hello", scope="zone")
            await ada.expect("chat")
            await ada.send({"t": "take_ticket", "service": "general", "lang": "sv"})
            await ada.expect("ticket")
            status, headers, body = await fetch(http_url(sp, "/metrics"))
        text = body.decode()
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        assert "servicepoint_connections 1" in text
        assert 'servicepoint_errors_total{code="bad_msgpack"} 1' in text
        assert "servicepoint_tick_seconds_count" in text
        # Each feature declares its own families, by feature name.
        assert 'servicepoint_chat_lines_total{scope="zone"} 1.0' in text
        assert 'servicepoint_desks_queue_events_total{type="arrived"} 1.0' in text
        rebuilt = next(
            line for line in text.splitlines() if 'interest_rows_total{work="rebuilt"}' in line
        )
        assert float(rebuilt.split()[1]) >= 1  # Ada's row started with a grid query
        assert 'servicepoint_interest_seconds_total{phase="band"}' in text
        for name in (
            "messages_in_total",
            "messages_out_total",
            "bytes_in_total",
            "bytes_out_total",
        ):
            value = next(
                line for line in text.splitlines() if line.startswith(f"servicepoint_{name} ")
            )
            assert float(value.split()[1]) > 0


async def test_serves_the_web_client_and_nothing_outside_it(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        status, headers, body = await fetch(http_url(sp, "/"))
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b"<html" in body.lower()
        status, headers, _ = await fetch(http_url(sp, "/src/protocol/catalogue.js"))
        assert status == 200 and headers["Content-Type"].startswith("text/javascript")
        assert headers["X-Content-Type-Options"] == "nosniff"
        for path in (
            "/../pyproject.toml",
            "/%2e%2e/pyproject.toml",
            "/nope.js",
            "/src/../../server/app.py",
        ):
            status, _, _ = await fetch(http_url(sp, path))
            assert status == 404, path


async def test_plain_get_on_ws_is_refused(tmp_path: Path) -> None:
    async with running_server(tmp_path) as sp:
        status, _, _ = await fetch(http_url(sp, "/ws"))
        assert status == 426


async def test_every_page_has_security_headers_and_a_csp_without_inline_scripts(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as sp:
        status, headers, body = await fetch(http_url(sp, "/"))
        assert status == 200
        csp = headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
        script_src = directives["script-src"].split()
        assert "'self'" in script_src and "'unsafe-inline'" not in script_src
        assert "'unsafe-eval'" not in script_src
        # Each inline script of the page (the import map) is allowed by its hash only.
        inline = re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", body, re.S)
        assert inline, "the page has its import map inline"
        for script in inline:
            digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
            assert f"'sha256-{digest}'" in script_src
        assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        for path in ("/healthz", "/metrics", "/src/main.js", "/nope"):
            _, headers, _ = await fetch(http_url(sp, path))
            assert "Content-Security-Policy" in headers and "X-Content-Type-Options" in headers


async def _handshake(url: str, origin: str | None) -> int:
    """Open a WebSocket with this Origin; the HTTP status of the answer (101 when accepted)."""
    headers = {"Origin": origin} if origin is not None else None
    try:
        async with connect(url, additional_headers=headers, open_timeout=5):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


async def test_websocket_origin_is_checked(tmp_path: Path) -> None:
    async with running_server(tmp_path, allowed_origins="https://service.example.org") as sp:
        url = ws_url(sp)
        own = f"http://127.0.0.1:{sp.port}"
        assert await _handshake(url, own) == 101
        assert await _handshake(url, None) == 101  # agents and bots send no Origin
        assert await _handshake(url, "https://service.example.org") == 101
        assert await _handshake(url, "https://evil.example.com") == 403
        assert await _handshake(url, f"http://127.0.0.1:{sp.port + 1}") == 403
        assert await _handshake(url, "null") == 403
        # A refused handshake costs nobody else anything.
        async with AgentClient(url, name="Ada") as ada:
            await ada.sync()
            assert not ada.stats.errors
