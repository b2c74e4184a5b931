"""gzip of the web client's static files (`server.edge.compress`, `HttpRoutes.static`).

Over real HTTP: three.js goes gzip-compressed to a request that accepts gzip, with
``Content-Encoding``, ``Vary: Accept-Encoding`` and the compressed length, and
unpacks to the very file; without ``Accept-Encoding`` (or with ``gzip;q=0``) the
same file goes as it is; a page keeps its CSP (hashed over the page, not over the
gzip bytes); small files and images are never compressed. Directly on the routes:
a file is compressed once per version, and again after it changes.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from server.edge.compress import MIN_BYTES, GzipCache, accepts_gzip, compressible
from server.edge.http import HttpRoutes, content_security_policy
from server.metrics import Metrics
from tests.server.harness import http_url, running_server

WEB = Path(__file__).resolve().parents[3] / "clients" / "web"
THREE = "/node_modules/three/build/three.core.js"


def _get(url: str, accept: str | None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)
    if accept is not None:
        request.add_header("Accept-Encoding", accept)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


async def fetch(url: str, accept: str | None = None) -> tuple[int, dict[str, str], bytes]:
    return await asyncio.to_thread(_get, url, accept)


async def test_text_files_go_gzipped_to_who_accepts_it(tmp_path: Path) -> None:
    three = (WEB / THREE.lstrip("/")).read_bytes()
    page = (WEB / "index.html").read_bytes()
    async with running_server(tmp_path) as sp:
        status, headers, body = await fetch(http_url(sp, THREE), "gzip, deflate, br")
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"
        assert headers["Vary"] == "Accept-Encoding"
        assert int(headers["Content-Length"]) == len(body) < len(three) // 3
        assert gzip.decompress(body) == three
        assert headers["Content-Type"] == "text/javascript; charset=utf-8"

        for accept in (None, "gzip;q=0, br", "identity"):
            status, headers, body = await fetch(http_url(sp, THREE), accept)
            assert status == 200 and body == three, accept
            assert "Content-Encoding" not in headers and headers["Vary"] == "Accept-Encoding"

        status, headers, body = await fetch(http_url(sp, "/"), "gzip")
        assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == page
        assert headers["Content-Security-Policy"] == content_security_policy(page)

        status, headers, body = await fetch(http_url(sp, "/favicon.svg"), "gzip")
        assert status == 200 and len(body) < MIN_BYTES
        assert "Content-Encoding" not in headers and "Vary" not in headers
        status, headers, _ = await fetch(http_url(sp, "/no-such-file.js"), "gzip")
        assert status == 404 and "Content-Encoding" not in headers


async def test_a_file_is_compressed_once_per_version(tmp_path: Path) -> None:
    root = tmp_path / "web"
    root.mkdir()
    script = root / "app.js"
    script.write_text("export const greeting = 'hello';\n" * 200)
    (root / "picture.png").write_bytes(b"\x89PNG" + bytes(4096))

    async def ok() -> bool:
        return True

    routes = HttpRoutes(root, Metrics(), ok)
    first = await routes.static("/app.js", "gzip")
    again = await routes.static("/app.js", "gzip")
    assert first.headers["Content-Encoding"] == "gzip" and again.body == first.body
    assert routes.gzip.compressed == 1

    script.write_text("export const greeting = 'hej';\n" * 200)
    stat = script.stat()
    os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    changed = await routes.static("/app.js", "gzip")
    assert gzip.decompress(changed.body) == script.read_bytes()
    assert routes.gzip.compressed == 2

    image = await routes.static("/picture.png", "gzip")
    assert "Content-Encoding" not in image.headers and image.body[:4] == b"\x89PNG"


async def test_the_cache_keeps_to_its_bound() -> None:
    cache = GzipCache(max_bytes=300)
    bodies = [bytes([i]) * 20_000 for i in range(10)]  # each packs to about 60 bytes
    for i, body in enumerate(bodies):
        assert gzip.decompress(await cache.packed((f"f{i}", 0, len(body)), body) or b"") == body
    assert cache.bytes <= 300
    assert len(cache) < len(bodies)
    assert ("f9", 0, 20_000) in cache and ("f0", 0, 20_000) not in cache
    noise = os.urandom(4096)  # does not get smaller: sent as it is
    assert await cache.packed(("noise", 0, len(noise)), noise) is None


@pytest.mark.parametrize(
    ("header", "gzip_ok"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=0.5", True),
        ("x-gzip", True),
        ("br", False),
        ("identity", False),
        ("*", True),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("gzip;q=0.0", False),
        ("gzip;q=bad", False),
        ("br, *;q=0.1", True),
    ],
)
def test_accept_encoding(header: str | None, gzip_ok: bool) -> None:
    assert accepts_gzip(header) is gzip_ok


def test_what_is_compressible() -> None:
    assert compressible("text/javascript; charset=utf-8", MIN_BYTES)
    assert compressible("application/json", 10_000)
    assert compressible("image/svg+xml", 10_000)
    assert not compressible("text/css; charset=utf-8", MIN_BYTES - 1)
    assert not compressible("image/png", 10_000)
    assert not compressible("font/woff2", 10_000)
