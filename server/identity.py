"""Who someone is: role tokens (JWT) for staff, hosts and admins; pseudonymous citizen keys.

Role tokens are standard JWTs (HS256, PyJWT) with ``sub`` (the person's
stable identity: staff are keyed by it, never by display name), ``iss``,
``aud``, ``iat``, ``exp``, ``role`` and ``name`` (the display name), and a
``kid`` header naming the secret that signed them. The `Keyring` signs with
the current secret and verifies with it or any previous one, so a secret can
rotate without invalidating every token at once.

Citizens need no token. The server mints each a *citizen key*: a JWT with a
random pseudonymous subject and the audience ``<aud>:citizen`` (so it can
never pass as a role token, nor a role token as a key). The browser keeps it
and presents it again, so the same citizen can later edit their posts or ask
for their data. It is never sent to anyone else and never logged.

    ring = Keyring("secret")
    token = ring.mint("staff", "Sara Lind", "sara.lind")
    grant = ring.verify(token)           # Grant(role="staff", subject="sara.lind", ...)
    key, subject = ring.mint_citizen()
    ring.verify_citizen(key) == subject
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import jwt

PRIVILEGED_ROLES = ("staff", "host", "manager", "admin", "bot", "captioner")
ALGORITHM = "HS256"
_SUBJECT = re.compile(r"^[A-Za-z0-9._@:+-]{1,128}$")


class TokenError(Exception):
    """A token or key is malformed, forged, expired or not for us; the message says which."""


@dataclass(frozen=True)
class Grant:
    """What a verified role token grants."""

    role: str
    name: str
    subject: str
    expires: float
    issued: float = 0.0
    """When the token was issued (``iat``): a revocation by subject refuses older ones."""


def key_id(secret: str) -> str:
    """The ``kid`` of a secret: a short digest, so the secret itself is never revealed."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def subject_for(name: str) -> str:
    """The default token subject for a display name: "Sara Lind" -> "sara.lind"."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c)
    )
    slug = re.sub(r"[^a-z0-9]+", ".", plain).strip(".")
    return slug[:128] or "staff"


class Keyring:
    """Signs with ``current``; verifies with ``current`` or any of ``previous``."""

    def __init__(
        self,
        current: str,
        previous: Sequence[str] = (),
        issuer: str = "servicepoint",
        audience: str = "servicepoint",
    ) -> None:
        if not current:
            raise ValueError("a signing secret is required")
        self.issuer = issuer
        self.audience = audience
        self._current = current
        self._keys = {key_id(s): s for s in (current, *previous) if s}

    # -- role tokens -----------------------------------------------------

    def mint(
        self,
        role: str,
        name: str,
        subject: str | None = None,
        ttl_s: float = 12 * 3600,
        now: float | None = None,
    ) -> str:
        """A token granting ``role`` to ``subject`` (default: from ``name``) for ``ttl_s``."""
        if role not in PRIVILEGED_ROLES:
            raise ValueError(f"role must be one of {', '.join(PRIVILEGED_ROLES)}")
        sub = subject or subject_for(name)
        if not _SUBJECT.match(sub):
            raise ValueError("subject: 1-128 of letters, digits and ._@:+-")
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "iat": issued,
            "exp": issued + int(ttl_s),
            "role": role,
            "name": name[:32],
        }
        return jwt.encode(claims, self._current, ALGORITHM, headers={"kid": key_id(self._current)})

    def verify(self, token: str, now: float | None = None) -> Grant:
        """Check signature, issuer, audience and expiry; return what the token grants."""
        claims = self._decode(token, self.audience, now, require=["exp", "iat", "sub", "iss"])
        role, name, sub = claims.get("role"), claims.get("name"), claims.get("sub")
        if role not in PRIVILEGED_ROLES:
            raise TokenError("The token grants no known role.")
        if not isinstance(name, str) or not isinstance(sub, str) or not _SUBJECT.match(sub):
            raise TokenError("The token's contents are not valid.")
        return Grant(
            role=str(role),
            name=name[:32],
            subject=sub,
            expires=float(str(claims["exp"])),
            issued=float(str(claims["iat"])),
        )

    # -- citizen keys ----------------------------------------------------

    def mint_citizen(self, subject: str | None = None, now: float | None = None) -> tuple[str, str]:
        """A citizen key for ``subject`` (default: a new pseudonym) and that subject."""
        subject = subject or "c." + secrets.token_urlsafe(18)
        claims = {
            "iss": self.issuer,
            "aud": self.audience + ":citizen",
            "sub": subject,
            "iat": int(time.time() if now is None else now),
        }
        key = jwt.encode(claims, self._current, ALGORITHM, headers={"kid": key_id(self._current)})
        return key, subject

    def verify_citizen(self, key: str) -> str:
        """The subject of a citizen key this server minted; `TokenError` otherwise."""
        claims = self._decode(key, self.audience + ":citizen", None, require=["sub", "iss"])
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith("c.") or not _SUBJECT.match(sub):
            raise TokenError("The citizen key's contents are not valid.")
        return sub

    def _decode(
        self, token: str, audience: str, now: float | None, require: list[str]
    ) -> dict[str, object]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("The token is not well formed.") from None
        if header.get("alg") != ALGORITHM:
            raise TokenError("The token is not signed with the expected algorithm.")
        secret = self._keys.get(str(header.get("kid", "")))
        if secret is None:
            raise TokenError("The token was signed with a key this server does not know.")
        options: dict[str, object] = {"require": require}
        leeway = 0.0
        if now is not None:
            # PyJWT checks against the wall clock; shift by the caller's notion of now.
            leeway = time.time() - now
        try:
            claims: dict[str, object] = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                options=options,  # type: ignore[arg-type]
                leeway=max(0.0, leeway),
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("The token has expired.") from None
        except jwt.InvalidSignatureError:
            raise TokenError("The token's signature is not valid.") from None
        except jwt.InvalidAudienceError:
            raise TokenError("The token is not meant for this service.") from None
        except jwt.InvalidIssuerError:
            raise TokenError("The token was not issued by this service.") from None
        except jwt.PyJWTError:
            raise TokenError("The token is not valid.") from None
        if now is not None and "exp" in claims and float(str(claims["exp"])) <= now:
            raise TokenError("The token has expired.")
        return claims
