"""The plain HTTP routes: web client, health, metrics."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from pathlib import Path

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
            status, headers, body = await fetch(http_url(sp, "/metrics"))
        text = body.decode()
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        assert "servicepoint_connections 1" in text
        assert 'servicepoint_errors_total{code="bad_msgpack"} 1' in text
        assert "servicepoint_tick_seconds_count" in text
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
