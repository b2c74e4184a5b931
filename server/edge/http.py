"""Plain HTTP routes served beside the WebSocket: the web client, health, metrics.

websockets calls `HttpRoutes.process_request` for every request; returning
``None`` lets the WebSocket handshake go ahead (only on ``/ws``, and only
from an allowed origin: a browser page from another site gets HTTP 403, as
OWASP's WebSocket guidance asks; clients that send no ``Origin`` — agents,
bots — are not browsers and are let through).

Every response carries the security headers: a Content-Security-Policy that
allows scripts from this origin only (the page's inline import map is
allowed by its hash, never by ``unsafe-inline``), ``nosniff`` and
``no-referrer``.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from server.metrics import CONTENT_TYPE, Metrics

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

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def content_security_policy(html: bytes = b"") -> str:
    """The CSP for a page: scripts from this origin, plus the page's inline scripts by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self'{' ' + hashes if hashes else ''}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        "media-src 'self' blob: mediastream:; "
        "connect-src 'self'; "
        "worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


def _response(
    status: HTTPStatus, body: bytes, content_type: str, cache: bool = False, csp: str | None = None
) -> Response:
    headers = Headers(
        {
            "Content-Type": content_type,
            "Content-Length": str(len(body)),
            "Cache-Control": "public, max-age=3600" if cache else "no-cache",
            "Content-Security-Policy": csp or content_security_policy(),
            **SECURITY_HEADERS,
        }
    )
    return Response(status.value, status.phrase, headers, body)


def origin_allowed(origin: str | None, host: str | None, allowed: Iterable[str]) -> bool:
    """Whether a WebSocket handshake with this ``Origin`` may proceed.

    No Origin (not a browser) is allowed; otherwise the origin must be the
    page's own (its host and port equal the request's ``Host``) or listed.
    """
    if origin is None:
        return True
    origin = origin.strip().rstrip("/")
    if origin in {o.strip().rstrip("/") for o in allowed if o.strip()}:
        return True
    if origin == "null" or not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower()


class HttpRoutes:
    def __init__(
        self,
        web_root: Path,
        metrics: Metrics,
        health: Callable[[], Awaitable[bool]],
        allowed_origins: Iterable[str] = (),
    ) -> None:
        self.web_root = web_root.resolve()
        self.metrics = metrics
        self.health = health
        self.allowed_origins = tuple(allowed_origins)
        self.refused_origins = 0

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/ws":
            if not origin_allowed(
                request.headers.get("Origin"), request.headers.get("Host"), self.allowed_origins
            ):
                self.refused_origins += 1
                return _response(
                    HTTPStatus.FORBIDDEN, b"origin not allowed\n", "text/plain; charset=utf-8"
                )
            return None
        if path == "/healthz":
            ok = await self.health()
            status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
            return _response(status, b"ok\n" if ok else b"store unavailable\n", "text/plain")
        if path == "/metrics":
            return _response(HTTPStatus.OK, self.metrics.render(), CONTENT_TYPE)
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
        body = target.read_bytes()
        csp = content_security_policy(body) if target.suffix == ".html" else None
        return _response(HTTPStatus.OK, body, kind, cache=vendored, csp=csp)
