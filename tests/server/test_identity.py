"""Role tokens are JWTs with a subject and a key id; citizen keys are pseudonymous."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from server.identity import Keyring, TokenError, key_id, subject_for

SECRET = "s3cret-for-the-identity-tests-0123456789"
OLD = "an-older-secret-still-accepted-0123456789"


def test_role_token_is_a_standard_jwt() -> None:
    ring = Keyring(SECRET)
    token = ring.mint("staff", "Sara Lind", ttl_s=600)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256" and header["kid"] == key_id(SECRET)
    assert SECRET not in token and key_id(SECRET) != SECRET
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="servicepoint")
    assert claims["sub"] == "sara.lind" and claims["iss"] == "servicepoint"
    assert claims["role"] == "staff" and claims["name"] == "Sara Lind"
    assert claims["exp"] - claims["iat"] == 600
    grant = ring.verify(token)
    assert (grant.role, grant.name, grant.subject) == ("staff", "Sara Lind", "sara.lind")


def test_two_people_with_one_name_are_two_subjects() -> None:
    ring = Keyring(SECRET)
    a = ring.verify(ring.mint("staff", "Sara Lind", "sara.lind"))
    b = ring.verify(ring.mint("staff", "Sara Lind", "sara.lind.2"))
    assert a.name == b.name and a.subject != b.subject
    assert subject_for("Åsa Öberg-Lind") == "asa.oberg.lind"


def test_rotation_keeps_older_tokens_valid_until_the_old_secret_is_dropped() -> None:
    old_token = Keyring(OLD).mint("host", "Hana")
    rotated = Keyring(SECRET, previous=[OLD])
    assert rotated.verify(old_token).role == "host"
    new_token = rotated.mint("host", "Hana")
    assert jwt.get_unverified_header(new_token)["kid"] == key_id(SECRET)
    with pytest.raises(TokenError, match="does not know"):
        Keyring(SECRET).verify(old_token)


def _tamper(token: str, **claims: object) -> str:
    head, body, sig = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(claims)
    raw = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{head}.{raw}.{sig}"


def test_forged_expired_and_foreign_tokens_are_refused() -> None:
    ring = Keyring(SECRET)
    token = ring.mint("staff", "Sara")
    with pytest.raises(TokenError, match="signature"):
        ring.verify(_tamper(token, role="admin"))
    with pytest.raises(TokenError, match="expired"):
        ring.verify(ring.mint("staff", "Sara", ttl_s=10, now=time.time() - 3600))
    foreign = jwt.encode(
        {"sub": "x", "iss": "servicepoint", "aud": "other", "exp": time.time() + 60, "iat": 0},
        SECRET,
        headers={"kid": key_id(SECRET)},
    )
    with pytest.raises(TokenError, match="not meant"):
        ring.verify(foreign)
    with pytest.raises(TokenError, match="not well formed"):
        ring.verify("garbage")
    none_alg = jwt.encode({"sub": "x"}, None, algorithm="none", headers={"kid": key_id(SECRET)})
    with pytest.raises(TokenError, match="algorithm"):
        ring.verify(none_alg)
    with pytest.raises(ValueError):
        ring.mint("citizen", "x")


def test_citizen_keys_are_pseudonymous_and_cannot_pass_as_role_tokens() -> None:
    ring = Keyring(SECRET)
    key, subject = ring.mint_citizen()
    assert subject.startswith("c.") and ring.verify_citizen(key) == subject
    again, same = ring.mint_citizen(subject)
    assert same == subject and ring.verify_citizen(again) == subject
    with pytest.raises(TokenError):
        ring.verify(key)  # a citizen key grants no role
    with pytest.raises(TokenError):
        ring.verify_citizen(ring.mint("admin", "Ari"))  # nor is a role token a citizen key
    with pytest.raises(TokenError):
        ring.verify_citizen(_tamper(key, sub="c.someone-else"))
    with pytest.raises(TokenError):
        Keyring("another-secret-entirely-0123456789").verify_citizen(key)
