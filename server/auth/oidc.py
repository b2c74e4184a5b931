"""The relying party: one OpenID Connect provider, the authorization-code flow with PKCE.

authlib builds the authorization request (state, nonce, the S256 code challenge) and
exchanges the code at the token endpoint (`AsyncOAuth2Client`); the ID token is then
checked here in full with authlib's `CodeIDToken` claims over joserfc: the signature by a
key of the provider's JWKS (an unknown ``kid`` fetches the set once more, then is refused;
``none`` and shared-secret algorithms never pass), the issuer, the audience (and ``azp``),
expiry and issue time, the nonce, and ``at_hash`` when present.

    client = OidcClient(issuer, client_id, client_secret, timeout_s=5)
    url = await client.authorization_url(redirect, scopes, state, nonce, verifier)
    tokens = await client.exchange(code, redirect, verifier)      # ProviderDown, SignInRefused
    claims = await client.validate_id_token(tokens["id_token"], nonce, tokens["access_token"])

Nothing here logs a token, a code or a secret; error messages name what failed, never
the value.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

with warnings.catch_warnings():
    # authlib prefers the httpx2 package; httpx (a dependency already) works the same.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
    from authlib.oidc.core import CodeIDToken

ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
"""ID-token algorithms accepted (of those the provider announces): never ``none`` or HS*."""

DISCOVERY_TTL_S = 3600.0
JWKS_REFETCH_MIN_S = 10.0
"""An unknown ``kid`` fetches the JWKS again at most this often (a flood of forged kids
cannot make us hammer the provider)."""
LEEWAY_S = 30


class ProviderDown(Exception):
    """The provider could not be reached, or answered with a server error."""


class SignInRefused(Exception):
    """The provider's answer or the ID token failed a check; the message says which."""


class OidcClient:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        timeout_s: float = 5.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.timeout_s = timeout_s
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: KeySet | None = None
        self._jwks_at = 0.0
        self._http = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

    async def close(self) -> None:
        await self._http.aclose()

    # -- discovery -------------------------------------------------------------

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour); `ProviderDown`."""
        now = time.monotonic()
        if self._metadata is not None and now - self._metadata_at < DISCOVERY_TTL_S:
            return self._metadata
        url = self.issuer + "/.well-known/openid-configuration"
        doc = await self._get_json(url)
        if doc.get("issuer", "").rstrip("/") != self.issuer:
            raise SignInRefused("The provider's discovery document names another issuer.")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(key), str):
                raise SignInRefused(f"The provider's discovery document has no {key}.")
        self._metadata, self._metadata_at = doc, now
        return doc

    async def end_session_endpoint(self) -> str | None:
        """The provider's RP-initiated logout endpoint, if it has one and is reachable."""
        try:
            doc = await self.metadata()
        except (ProviderDown, SignInRefused):
            return None
        end = doc.get("end_session_endpoint")
        return end if isinstance(end, str) and end else None

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            resp = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderDown(f"The provider is not reachable ({type(exc).__name__}).") from None
        if resp.status_code >= 500:
            raise ProviderDown(f"The provider answered {resp.status_code}.")
        if resp.status_code != 200:
            raise SignInRefused(f"The provider answered {resp.status_code}.")
        try:
            doc = resp.json()
        except ValueError:
            raise SignInRefused("The provider did not answer with JSON.") from None
        if not isinstance(doc, dict):
            raise SignInRefused("The provider did not answer with a JSON object.")
        return doc

    async def _keys(self, refresh: bool = False) -> KeySet:
        now = time.monotonic()
        if self._jwks is not None and not refresh:
            return self._jwks
        if self._jwks is not None and now - self._jwks_at < JWKS_REFETCH_MIN_S:
            return self._jwks
        doc = await self._get_json((await self.metadata())["jwks_uri"])
        try:
            keys = KeySet.import_key_set(doc)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise SignInRefused("The provider's key set is not valid.") from None
        self._jwks, self._jwks_at = keys, now
        return keys

    # -- the flow ----------------------------------------------------------------

    def _client(self, redirect_url: str, scopes: Sequence[str] = ()) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self._secret,
            token_endpoint_auth_method="client_secret_basic",
            scope=" ".join(scopes),
            redirect_uri=redirect_url,
            code_challenge_method="S256",
            timeout=self.timeout_s,
        )

    async def authorization_url(
        self, redirect_url: str, scopes: Sequence[str], state: str, nonce: str, verifier: str
    ) -> str:
        """Where to send the browser: the provider's authorization endpoint with PKCE."""
        endpoint = (await self.metadata())["authorization_endpoint"]
        async with self._client(redirect_url, scopes) as client:
            url, _ = client.create_authorization_url(
                endpoint, state=state, code_verifier=verifier, nonce=nonce
            )
        return str(url)

    async def exchange(self, code: str, redirect_url: str, verifier: str) -> dict[str, Any]:
        """Trade the authorization code for tokens (once: the provider refuses a replay)."""
        endpoint = (await self.metadata())["token_endpoint"]
        async with self._client(redirect_url) as client:
            try:
                token = await client.fetch_token(
                    endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=verifier,
                    redirect_uri=redirect_url,
                )
            except OAuthError as exc:
                # The provider's error code only (invalid_grant, ...), never its echo of input.
                raise SignInRefused(f"The provider refused the code ({exc.error}).") from None
            except httpx.HTTPError as exc:
                raise ProviderDown(
                    f"The provider is not reachable ({type(exc).__name__})."
                ) from None
            except ValueError:
                raise SignInRefused("The provider's token answer is not valid.") from None
        if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
            raise SignInRefused("The provider's answer holds no ID token.")
        return dict(token)

    async def validate_id_token(
        self,
        id_token: str,
        nonce: str,
        access_token: str | None = None,
        now: float | None = None,
    ) -> dict[str, Any]:
        """The claims of ``id_token`` after every check; `SignInRefused` names the one failed."""
        doc = await self.metadata()
        announced = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in announced if a in ASYMMETRIC_ALGORITHMS]
        if not algorithms:
            raise SignInRefused("The provider signs ID tokens with no algorithm accepted here.")
        registry = JWSRegistry(algorithms=algorithms)
        try:
            token = self._decode(id_token, await self._keys(), registry)
        except InvalidKeyIdError:
            # Keys rotate: fetch the set again (rate-limited), then refuse an unknown kid.
            try:
                token = self._decode(id_token, await self._keys(refresh=True), registry)
            except InvalidKeyIdError:
                raise SignInRefused(
                    "The ID token is signed with a key the provider does not list."
                ) from None
        params: dict[str, Any] = {"nonce": nonce, "client_id": self.client_id}
        if access_token:
            params["access_token"] = access_token
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": doc["issuer"]},
            "aud": {"essential": True, "value": self.client_id},
            "exp": {"essential": True},
            "nonce": {"essential": True},
        }
        claims = CodeIDToken(token.claims, token.header, options, params)
        try:
            claims.validate(now=int(now if now is not None else time.time()), leeway=LEEWAY_S)
        except ExpiredTokenError:
            raise SignInRefused("The ID token has expired.") from None
        except MissingClaimError as exc:
            raise SignInRefused(f"The ID token lacks the claim {exc.claim}.") from None
        except InvalidClaimError as exc:
            raise SignInRefused(_claim_reason(exc.claim)) from None
        except JoseError:
            raise SignInRefused("The ID token's claims are not valid.") from None
        return dict(claims)

    @staticmethod
    def _decode(id_token: str, keys: KeySet, registry: JWSRegistry) -> jwt.Token:
        try:
            return jwt.decode(id_token, keys, registry=registry)
        except InvalidKeyIdError:
            raise
        except BadSignatureError:
            raise SignInRefused("The ID token's signature is not valid.") from None
        except (JoseError, ValueError, KeyError, TypeError):
            raise SignInRefused(
                "The ID token is not well formed or not signed as expected."
            ) from None


def _claim_reason(claim: str) -> str:
    return {
        "iss": "The ID token was issued by another provider.",
        "aud": "The ID token is meant for another client.",
        "azp": "The ID token is meant for another client.",
        "nonce": "The ID token does not belong to this sign-in (nonce mismatch).",
        "iat": "The ID token's issue time is not valid.",
        "nbf": "The ID token is not valid yet.",
        "at_hash": "The ID token does not match its access token.",
    }.get(claim, f"The ID token's claim {claim} is not valid.")
