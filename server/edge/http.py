"""Plain HTTP routes served beside the WebSocket: the web client, health, metrics,
and the features' GET routes under ``/api/<feature>/<route>``.

websockets calls `HttpRoutes.process_request` for every request; returning
``None`` lets the WebSocket handshake go ahead (only on ``/ws``, and only
from an allowed origin: a browser page from another site gets HTTP 403, as
OWASP's WebSocket guidance asks; clients that send no ``Origin`` — agents,
bots — are not browsers and are let through).

A feature route needs ``Authorization: Bearer <role token>`` or a sign-in
session cookie (`server.auth`) whose role the route allows (a ``public`` route
serves anyone, with or without a token): 401 without a valid token, 403 for
another role, both as ``{"error": {"code", "reason"}}``. Tokens are never
taken from the URL, so they never reach an access log.

``/auth/*`` is staff sign-in (OpenID Connect) and the session cookie's life:
`server.auth.service.AuthService.http` answers, here turned into responses
that are never cached.

Every response carries the security headers: a Content-Security-Policy that
allows scripts from this origin only (the page's inline import map is
allowed by its hash, never by ``unsafe-inline``), ``nosniff`` and
``no-referrer``. The web client's text files go gzip-compressed to a browser
that accepts it (`server.edge.compress`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from server.auth.service import AuthService
from server.auth.web import AuthReply
from server.edge.compress import GzipCache, accepts_gzip, compressible
from server.identity import Grant, TokenError
from server.metrics import CONTENT_TYPE, Metrics
from server.plug import Caller, HttpError, HttpReply, HttpRequest, HttpRoute

log = logging.getLogger(__name__)
MAX_QUERY_BYTES = 2048

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
    status: HTTPStatus,
    body: bytes,
    content_type: str,
    cache: bool = False,
    csp: str | None = None,
    filename: str | None = None,
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
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(status.value, status.phrase, headers, body)


def auth_response(reply: AuthReply) -> Response:
    """A sign-in reply as a response: never cached, its cookies and redirect attached."""
    response = _response(HTTPStatus(reply.status), reply.body, reply.content_type)
    response.headers["Cache-Control"] = "no-store"
    if reply.location is not None:
        response.headers["Location"] = reply.location
    for cookie in reply.cookies:
        response.headers["Set-Cookie"] = cookie
    return response


def _error(status: int, code: str, reason: str) -> Response:
    body = json.dumps({"error": {"code": code, "reason": reason}}).encode()
    return _response(HTTPStatus(status), body, "application/json")


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


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
        api: Mapping[str, HttpRoute] | None = None,
        verify: Callable[[str], Grant] | None = None,
        auth: AuthService | None = None,
    ) -> None:
        self.auth = auth
        """Sign-in and sessions (``/auth/*``, session cookies on API routes); None: off."""
        self.api = dict(api or {})
        """Feature routes by full path (``/api/<feature>/<route>``)."""
        self.verify = verify
        self.web_root = web_root.resolve()
        self.metrics = metrics
        self.health = health
        self.allowed_origins = tuple(allowed_origins)
        self.refused_origins = 0
        self.gzip = GzipCache()
        """The static files' compressed bodies, by file version."""

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
        if path.startswith("/api/"):
            return await self.feature_route(path, request)
        if path.startswith("/auth/"):
            return await self.auth_route(path, connection, request)
        return await self.static(path, request.headers.get("Accept-Encoding"))

    async def auth_route(
        self, path: str, connection: ServerConnection, request: Request
    ) -> Response:
        if self.auth is None:
            return _response(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        query_text = urlsplit(request.path).query
        if len(query_text) > MAX_QUERY_BYTES:
            return _error(400, "bad_request", "The query is too long.")
        query = dict(parse_qsl(query_text, keep_blank_values=True))
        transport = connection.transport
        secure = transport is not None and transport.get_extra_info("sslcontext") is not None
        try:
            reply = await self.auth.http(path, query, request.headers, secure)
        except Exception:
            log.exception("sign-in route %s failed", path)
            return _error(500, "internal", "The server could not answer; the error is logged.")
        return auth_response(reply)

    async def grant_of(self, request: Request) -> Grant | None:
        """What the request's bearer role token (or, without one, its session cookie)
        grants; None with neither; `TokenError` for a bad or revoked token."""
        token = bearer(request.headers.get("Authorization"))
        if token is not None:
            if self.verify is None:
                raise TokenError("This server takes no role tokens here.")
            grant = self.verify(token)
            if self.auth is not None and await self.auth.token_refused(grant):
                raise TokenError("The token was revoked.")
            return grant
        if self.auth is not None:
            return await self.auth.grant_of_cookie(request.headers.get("Cookie"))
        return None

    async def feature_route(self, path: str, request: Request) -> Response:
        route = self.api.get(path)
        if route is None:
            return _error(404, "not_found", "There is no such API route.")
        caller = Caller("", "", "")
        try:
            grant = await self.grant_of(request)
        except TokenError as exc:
            return _error(401, "unauthorized", str(exc))
        if grant is None and not route.public:
            return _error(401, "unauthorized", "Send a role token: Authorization: Bearer <token>.")
        if grant is not None:
            if grant.role not in route.roles and not route.public:
                return _error(
                    403, "forbidden", f"This needs one of the roles {', '.join(route.roles)}."
                )
            caller = Caller(grant.subject, grant.name, grant.role)
        query_text = urlsplit(request.path).query
        if len(query_text) > MAX_QUERY_BYTES:
            return _error(400, "bad_request", "The query is too long.")
        query = dict(parse_qsl(query_text, keep_blank_values=True))
        name = path.rsplit("/", 1)[-1]
        req = HttpRequest(name, query, caller)
        try:
            reply: HttpReply = await route.handler(req)
        except HttpError as exc:
            return _error(exc.status, exc.code, exc.reason)
        except Exception:
            log.exception("API route %s failed", path)
            return _error(500, "internal", "The server could not answer; the error is logged.")
        return _response(
            HTTPStatus(reply.status), reply.body, reply.content_type, filename=reply.filename
        )

    async def static(self, path: str, accept_encoding: str | None = None) -> Response:
        """A file under the web root; never anything outside it. Text files of 1 KiB or
        more go gzip-compressed to a request that accepts gzip (`server.edge.compress`)."""
        rel = "index.html" if path in ("", "/") else path.lstrip("/")
        target = (self.web_root / rel).resolve()
        if not target.is_relative_to(self.web_root) or not target.is_file():
            return _response(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        kind = CONTENT_TYPES.get(target.suffix) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        vendored = "node_modules" in target.parts
        stat = target.stat()
        body = target.read_bytes()
        csp = content_security_policy(body) if target.suffix == ".html" else None
        if not compressible(kind, len(body)):
            return _response(HTTPStatus.OK, body, kind, cache=vendored, csp=csp)
        packed = None
        if accepts_gzip(accept_encoding):
            packed = await self.gzip.packed((str(target), stat.st_mtime_ns, len(body)), body)
        response = _response(HTTPStatus.OK, packed or body, kind, cache=vendored, csp=csp)
        response.headers["Vary"] = "Accept-Encoding"
        if packed is not None:
            response.headers["Content-Encoding"] = "gzip"
        return response
