"""The sign-in settings: the staff identity provider (``SERVICEPOINT_AUTH_*``) and the
citizens' eID broker (``SERVICEPOINT_AUTH_EID_*``).

Sign-in is off until ``SERVICEPOINT_AUTH_ISSUER`` names a provider; the eID step is off
until ``SERVICEPOINT_AUTH_EID_ISSUER`` does. The group mappings are JSON objects::

    SERVICEPOINT_AUTH_ROLE_MAP='{"sp-admins": "admin", "sp-staff": "staff"}'
    SERVICEPOINT_AUTH_ROSTER_MAP='{"sp-desk-general": {"services": ["general"],
                                                       "desks": ["desk-1", "desk-2"]}}'

Load with ``load_section(AuthSettings, overrides)`` (`server.config`), which reads the
environment; ``AuthSettings(...)`` alone reads none.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings

MAPPABLE_ROLES = ("admin", "manager", "host", "captioner", "staff")
"""Roles a provider's group may grant, strongest first: a person in several mapped
groups gets the first of these among them. Bots only ever sign in with a role token."""


class RosterGrant(BaseModel):
    """What one group adds to a staff member's roster entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    services: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    desks: tuple[str, ...] = ()


class AuthSettings(FeatureSettings):
    """Staff sign-in with the agency's OpenID Connect provider, and the server's sessions."""

    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_AUTH_")

    issuer: str = Field(
        default="",
        max_length=500,
        description="The provider's issuer URL (its `/.well-known/openid-configuration` is read"
        " from there); empty: staff sign-in is off and only role tokens work.",
    )
    client_id: str = Field(default="", max_length=500, description="This server's client id.")
    client_secret: str = Field(
        default="",
        max_length=2000,
        description="The client secret (sent to the token endpoint only; never logged).",
    )
    redirect_url: str = Field(
        default="",
        max_length=500,
        description="The callback URL registered at the provider; empty: `<scheme>://<Host>"
        "/auth/callback` of the request (set it explicitly behind a proxy).",
    )
    scopes: str = Field(
        default="openid profile email groups",
        max_length=500,
        description="Scopes asked for (space-separated; `openid` is always included).",
    )
    groups_claim: str = Field(
        default="groups",
        max_length=100,
        description="The ID-token claim holding the person's groups or roles (a list of strings;"
        " a dotted path such as `realm_access.roles` reaches into objects).",
    )
    subject_claim: str = Field(
        default="sub",
        max_length=100,
        description="The claim that identifies the person (staff are keyed by it, and the world"
        " file's `[[staff]] sub`): `sub`, or e.g. `oid` (Entra ID) or `preferred_username`.",
    )
    name_claim: str = Field(
        default="name", max_length=100, description="The claim holding the display name."
    )
    role_map: dict[str, str] = Field(
        default_factory=dict,
        description="JSON: provider group -> our role (admin, manager, host, captioner, staff)."
        " A person in no mapped group signs in as a citizen.",
    )
    roster_map: dict[str, RosterGrant] = Field(
        default_factory=dict,
        description='JSON: provider group -> `{"services": [...], "languages": [...],'
        ' "desks": [...]}` added to the staff roster entry of its members.',
    )
    session_ttl_s: int = Field(
        default=900,
        ge=30,
        le=86400,
        description="A session ends this long after sign-in or its last refresh, seconds.",
    )
    session_max_s: int = Field(
        default=12 * 3600,
        ge=60,
        le=7 * 86400,
        description="No refresh extends a session beyond this long after sign-in, seconds.",
    )
    login_ttl_s: int = Field(
        default=600,
        ge=30,
        le=3600,
        description="Time the browser has to come back from the provider, seconds.",
    )
    check_every_s: float = Field(
        default=15.0,
        gt=0,
        description="How often live connections' sessions are re-checked (ended or revoked"
        " elsewhere: closed with 4010), seconds.",
    )
    http_timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="Timeout of each request to the provider, seconds."
    )
    secure_cookies: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="`Secure` on the session cookies: `auto` when the request came over https"
        " (or `X-Forwarded-Proto: https`).",
    )
    post_logout_url: str = Field(
        default="/",
        max_length=500,
        description="Where the browser goes after sign-out (a path here, or an absolute URL"
        " registered at the provider as a post-logout redirect URI).",
    )
    provider_logout: bool = Field(
        default=True,
        description="Also sign out at the provider (RP-initiated logout) when it offers an"
        " `end_session_endpoint`.",
    )
    token_revocation_s: int = Field(
        default=7 * 86400,
        ge=60,
        description="How long a revocation by subject also refuses that subject's role tokens"
        " issued before it, seconds (set it at least to the longest token lifetime).",
    )

    @field_validator("role_map")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted({r for r in value.values() if r not in MAPPABLE_ROLES})
        if bad:
            raise ValueError(f"roles {bad} cannot be granted; use {', '.join(MAPPABLE_ROLES)}")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)

    def scope_list(self) -> list[str]:
        scopes = self.scopes.split()
        return scopes if "openid" in scopes else ["openid", *scopes]


class EidSettings(FeatureSettings):
    """Citizens' optional "prove who I am" through an eID broker speaking OpenID Connect.

    The server keeps only a pairwise, salted hash of the broker's subject and a verified
    flag against the citizen's pseudonymous identity; no other claim is kept.
    """

    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_AUTH_EID_")

    issuer: str = Field(
        default="",
        max_length=500,
        description="The eID broker's issuer URL; empty: the verification step is off.",
    )
    client_id: str = Field(default="", max_length=500, description="This server's client id there.")
    client_secret: str = Field(
        default="", max_length=2000, description="The client secret at the broker (never logged)."
    )
    redirect_url: str = Field(
        default="",
        max_length=500,
        description="The callback registered at the broker; empty: `<scheme>://<Host>"
        "/auth/eid/callback` of the request.",
    )
    scopes: str = Field(
        default="openid",
        max_length=500,
        description="Scopes asked for; only `sub` is used, so `openid` is enough.",
    )
    salt: str = Field(
        default="",
        max_length=500,
        description="Secret salt of the pairwise subject hash; empty: derived from the server"
        " secret (changing either makes earlier hashes unmatched).",
    )
    verified_ttl_s: int = Field(
        default=365 * 86400,
        ge=60,
        description="How long a citizen identity stays verified, seconds.",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)

    def scope_list(self) -> list[str]:
        scopes = self.scopes.split()
        return scopes if "openid" in scopes else ["openid", *scopes]
