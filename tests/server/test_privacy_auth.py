"""Redaction of identity numbers, and role tokens."""

from __future__ import annotations

import pytest

from server import auth
from server.privacy import PLACEHOLDER, redact


@pytest.mark.parametrize(
    "text",
    [
        "mitt personnummer är 19800101-1234",
        "pnr 800101-1234 tack",
        "800101+1234",
        "CPR: 010180-1234",
        "0101801234",
        "Steuer-ID 12345678901",
        "マイナンバー 1234 5678 9012",
        "マイナンバーは123456789012です",
    ],
)
def test_identity_numbers_are_redacted(text: str) -> None:
    out = redact(text)
    assert PLACEHOLDER in out
    assert not any(run in out for run in ("1234", "01801234", "5678"))


@pytest.mark.parametrize("text", ["Desk 4 at 10:30", "call 112", "ticket A-014", "year 2026"])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_tokens_round_trip_and_refuse_tampering() -> None:
    token = auth.mint("s3cret", "staff", "Sara")
    grant = auth.verify("s3cret", token)
    assert (grant.role, grant.name) == ("staff", "Sara")
    _head, sig = token.split(".")
    forged = auth.mint("s3cret", "admin", "Sara").split(".")[0] + "." + sig
    with pytest.raises(auth.TokenError):
        auth.verify("s3cret", forged)
    with pytest.raises(auth.TokenError):
        auth.verify("other", token)
    with pytest.raises(auth.TokenError):
        auth.verify("s3cret", token, now=grant.expires + 1)
    with pytest.raises(ValueError):
        auth.mint("s3cret", "citizen", "x")
