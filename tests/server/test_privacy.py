"""Redaction of identity numbers before anything is stored or shown."""

from __future__ import annotations

import pytest

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
