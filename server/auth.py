"""Signed role tokens: how staff, hosts and admins prove who they are.

A token is ``base64url(payload).base64url(hmac_sha256(secret, payload))``
where the payload is JSON ``{"role", "name", "iat", "exp"}``. Tokens are
minted by ``servicepoint token`` and checked on ``hello``. Guests need none:
they are citizens. Tokens are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

PRIVILEGED_ROLES = ("staff", "host", "admin")


class TokenError(Exception):
    """The token is malformed, forged or expired; the message says which."""


@dataclass(frozen=True)
class Grant:
    role: str
    name: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(
    secret: str, role: str, name: str, ttl_s: float = 12 * 3600, now: float | None = None
) -> str:
    """A token granting ``role`` to ``name`` for ``ttl_s`` seconds."""
    if role not in PRIVILEGED_ROLES:
        raise ValueError(f"role must be one of {', '.join(PRIVILEGED_ROLES)}")
    issued = time.time() if now is None else now
    payload = json.dumps(
        {"role": role, "name": name, "iat": int(issued), "exp": int(issued + ttl_s)},
        separators=(",", ":"),
    ).encode()
    sig = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(sig)}"


def verify(secret: str, token: str, now: float | None = None) -> Grant:
    """Check a token's signature and expiry; return what it grants."""
    try:
        head, sig_text = token.split(".", 1)
        payload = _unb64(head)
        sig = _unb64(sig_text)
    except (ValueError, UnicodeError):
        raise TokenError("The token is not well formed.") from None
    want = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(sig, want):
        raise TokenError("The token's signature is not valid.")
    try:
        data = json.loads(payload)
        role, name, exp = str(data["role"]), str(data["name"]), float(data["exp"])
    except (ValueError, KeyError, TypeError):
        raise TokenError("The token's contents are not valid.") from None
    if role not in PRIVILEGED_ROLES:
        raise TokenError("The token grants no known role.")
    if (time.time() if now is None else now) >= exp:
        raise TokenError("The token has expired.")
    return Grant(role=role, name=name[:32], expires=exp)
