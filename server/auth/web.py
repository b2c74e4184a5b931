"""HTTP pieces of sign-in: cookies, the readable pages, and the reply the edge turns into
a response (`server.edge.http` adds the security headers).

Cookies::

    sp_session   (``__Host-sp_session`` over https) the session token: HttpOnly,
                 SameSite=Strict, Path=/, Max-Age = the session's remaining life
    sp_login     the browser binding of a sign-in in progress: HttpOnly, SameSite=Lax
                 (it must come back with the provider's redirect), Path=/auth, short-lived
    sp_citizen   set by the page's script just before "prove who I am" (the citizen key,
                 for /auth/eid/start only: Path=/auth/eid, two minutes); cleared at once
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any

SESSION_COOKIE = "sp_session"
SECURE_SESSION_COOKIE = "__Host-sp_session"
LOGIN_COOKIE = "sp_login"
CITIZEN_COOKIE = "sp_citizen"


@dataclass
class AuthReply:
    """An answer to a ``/auth/*`` request (never cached)."""

    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None
    cookies: list[str] = field(default_factory=list)
    """``Set-Cookie`` header values."""


def parse_cookies(header: str | None) -> dict[str, str]:
    """The cookies of a ``Cookie`` header (malformed ones are skipped)."""
    if not header or len(header) > 8192:
        return {}
    out: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if not sep or not name:
            continue
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(f"{name}={value}")
        except CookieError:
            continue
        for key, morsel in jar.items():
            out.setdefault(key, morsel.value)
    return out


def session_token(cookies: Mapping[str, str]) -> str | None:
    return cookies.get(SECURE_SESSION_COOKIE) or cookies.get(SESSION_COOKIE) or None


def set_cookie(
    name: str,
    value: str,
    *,
    max_age: int,
    path: str = "/",
    same_site: str = "Strict",
    secure: bool = False,
    http_only: bool = True,
) -> str:
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={max(0, max_age)}"]
    parts.append(f"SameSite={same_site}")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def session_cookie(token: str, max_age: int, secure: bool) -> str:
    name = SECURE_SESSION_COOKIE if secure else SESSION_COOKIE
    return set_cookie(name, token, max_age=max_age, secure=secure)


def clear_session_cookies(secure: bool) -> list[str]:
    out = [set_cookie(SESSION_COOKIE, "", max_age=0, secure=secure)]
    if secure:
        out.append(set_cookie(SECURE_SESSION_COOKIE, "", max_age=0, secure=True))
    return out


def json_reply(status: int, data: Mapping[str, Any], cookies: list[str] | None = None) -> AuthReply:
    return AuthReply(status, json.dumps(data).encode(), "application/json", cookies=cookies or [])


def redirect(location: str, cookies: list[str] | None = None) -> AuthReply:
    return AuthReply(
        302, b"", "text/plain; charset=utf-8", location=location, cookies=cookies or []
    )


def page(status: int, title: str, text: str, cookies: list[str] | None = None) -> AuthReply:
    """A small readable page (no script): a heading, a sentence, a way back."""
    body = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · servicepoint</title>
<link rel="stylesheet" href="/src/style.css">
</head>
<body>
<main class="auth-page">
<h1 id="auth-title">{html.escape(title)}</h1>
<p id="auth-text">{html.escape(text)}</p>
<p><a href="/" id="auth-back">Back to the service hall</a></p>
</main>
</body>
</html>
"""
    return AuthReply(status, body.encode(), cookies=cookies or [])
