"""Keep sign-in secrets out of the libraries' debug logs.

At DEBUG, websockets logs every HTTP request line and header it receives and sends
(``< GET /auth/callback?code=...``, ``< Cookie: sp_session=...``, ``> Set-Cookie: ...``),
and httpcore logs the headers of every response (``Location: ...?code=...``). Our own
code never logs these; `install` puts a filter on those loggers that drops query strings
from request lines and replaces the values of credential-bearing headers with
``[redacted]``, and WebSocket frames that carry a JWT (a role token in ``hello``, a
citizen key in ``welcome``) are logged by their size only. Called by
`server.auth.service.AuthService.start`; idempotent.
"""

from __future__ import annotations

import logging
import re
from typing import Any

SENSITIVE_HEADERS = frozenset(
    {"cookie", "set-cookie", "authorization", "location", "proxy-authorization"}
)
LOGGERS = (
    "websockets.server",
    "websockets.client",
    "httpcore.http11",
    "httpcore.connection",
    "httpx",
)
REDACTED = "[redacted]"
_HEADER_PAIR = re.compile(r"\((b'[^']*'), b'[^']*'\)")
"""A header as httpcore's trace prints it: (b'Name', b'value')."""


def _name(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1").lower()
    return str(value).lower()


def _scrub(value: Any) -> Any:
    """``value`` with the values of sensitive header pairs replaced (nested tuples/lists)."""
    if isinstance(value, tuple) and len(value) == 2 and _name(value[0]) in SENSITIVE_HEADERS:
        return (value[0], REDACTED)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub(v) for v in value)
    if isinstance(value, dict):
        return {
            k: (REDACTED if _name(k) in SENSITIVE_HEADERS else _scrub(v)) for k, v in value.items()
        }
    return value


def _no_query(url: Any) -> str:
    text = str(url)
    return text.split("?", 1)[0] + ("?" + REDACTED if "?" in text else "")


def _scrub_trace(message: str) -> str:
    def pair(match: re.Match[str]) -> str:
        name = match.group(1)
        if name[2:-1].lower() in SENSITIVE_HEADERS:
            return f"({name}, b'{REDACTED}')"
        return match.group(0)

    return _HEADER_PAIR.sub(pair, message)


def _carries_jwt(frame: object) -> bool:
    data = getattr(frame, "data", None)
    return isinstance(data, (bytes, bytearray, memoryview)) and b"eyJ" in bytes(data)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name.startswith("httpcore"):
            if not args and isinstance(record.msg, str):
                record.msg = _scrub_trace(record.msg)
            return True
        if record.name == "httpx" and isinstance(args, tuple) and len(args) >= 2:
            record.args = (args[0], _no_query(args[1]), *args[2:])
            return True
        if not args:
            return True
        if isinstance(args, tuple):
            fmt = str(record.msg)
            items = list(args)
            if fmt in ("< %s: %s", "> %s: %s") and len(items) == 2:
                if _name(items[0]) in SENSITIVE_HEADERS:
                    items[1] = REDACTED
            elif fmt in ("< %s", "> %s") and len(items) == 1 and _carries_jwt(items[0]):
                # A frame carrying a JWT (hello.token, welcome.citizen): its size only.
                size = len(bytes(getattr(items[0], "data", b"")))
                items[0] = f"[frame of {size} bytes with a token: {REDACTED}]"
            elif fmt == "< %s %s %s" and len(items) == 3:
                items[1] = _no_query(items[1])
            record.args = tuple(_scrub(v) for v in items)
        elif isinstance(args, dict):
            record.args = _scrub(args)
        return True


_FILTER = RedactSecrets()


def install() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
