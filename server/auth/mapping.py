"""From the provider's claims to who someone is here: subject, role, name and roster.

    person = map_claims(claims, settings)
    person.role        # "staff"; "citizen" for a person in no mapped group

A claim path may be dotted (``realm_access.roles`` for Keycloak). Groups are strings;
anything else in the claim is ignored. A subject that does not fit the server's
subject alphabet is replaced by a stable digest of it (``oidc.<hex>``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.auth.sessions import Roster
from server.auth.settings import MAPPABLE_ROLES, AuthSettings

_SUBJECT = re.compile(r"^[A-Za-z0-9._@:+-]{1,128}$")


@dataclass(frozen=True)
class SignedIn:
    subject: str
    role: str
    name: str
    roster: Roster
    groups: tuple[str, ...]


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of ``claims``, or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def groups_of(claims: Mapping[str, Any], path: str) -> tuple[str, ...]:
    value = claim(claims, path)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(g for g in value if isinstance(g, str) and g)[:256]


def safe_subject(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    if _SUBJECT.match(value):
        return value
    return "oidc." + hashlib.sha256(value.encode()).hexdigest()[:32]


def map_claims(claims: Mapping[str, Any], settings: AuthSettings) -> SignedIn | None:
    """Who the ID token's claims describe; None when the subject claim is missing."""
    subject = safe_subject(claim(claims, settings.subject_claim))
    if subject is None:
        return None
    groups = groups_of(claims, settings.groups_claim)
    roles = {settings.role_map[g] for g in groups if g in settings.role_map}
    role = next((r for r in MAPPABLE_ROLES if r in roles), "citizen")
    services: list[str] = []
    languages: list[str] = []
    desks: list[str] = []
    for g in groups:
        grant = settings.roster_map.get(g)
        if grant is None:
            continue
        services += [s for s in grant.services if s not in services]
        languages += [s for s in grant.languages if s not in languages]
        desks += [s for s in grant.desks if s not in desks]
    raw_name = claim(claims, settings.name_claim)
    name = raw_name.strip()[:32] if isinstance(raw_name, str) and raw_name.strip() else subject
    return SignedIn(
        subject=subject,
        role=role,
        name=name[:32],
        roster=Roster(tuple(services), tuple(languages), tuple(desks)),
        groups=groups,
    )
