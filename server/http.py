"""Plain HTTP routes served beside the WebSocket: the web client, health, metrics.

websockets calls `HttpRoutes.process_request` for every request; returning
``None`` lets the WebSocket handshake go ahead (only on ``/ws``).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from server.metrics import Metrics

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".wasm": "application/wasm",
    ".map": "application/json",
}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _response(status: HTTPStatus, body: bytes, content_type: str, cache: bool = False) -> Response:
    headers = Headers(
        {
            "Content-Type": content_type,
            "Content-Length": str(len(body)),
            "Cache-Control": "public, max-age=3600" if cache else "no-cache",
            **SECURITY_HEADERS,
        }
    )
    return Response(status.value, status.phrase, headers, body)


class HttpRoutes:
    def __init__(
        self, web_root: Path, metrics: Metrics, health: Callable[[], Awaitable[bool]]
    ) -> None:
        self.web_root = web_root.resolve()
        self.metrics = metrics
        self.health = health

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/ws":
            return None
        if path == "/healthz":
            ok = await self.health()
            status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
            return _response(status, b"ok\n" if ok else b"store unavailable\n", "text/plain")
        if path == "/metrics":
            return _response(
                HTTPStatus.OK, self.metrics.render().encode(), "text/plain; version=0.0.4"
            )
        return self.static(path)

    def static(self, path: str) -> Response:
        """A file under the web root; never anything outside it."""
        rel = "index.html" if path in ("", "/") else path.lstrip("/")
        target = (self.web_root / rel).resolve()
        if not target.is_relative_to(self.web_root) or not target.is_file():
            return _response(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        kind = CONTENT_TYPES.get(target.suffix) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        vendored = "node_modules" in target.parts
        return _response(HTTPStatus.OK, target.read_bytes(), kind, cache=vendored)
