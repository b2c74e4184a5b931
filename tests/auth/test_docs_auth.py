"""docs/OPERATIONS.md carries the sign-in settings, generated from the models."""

from __future__ import annotations

from pathlib import Path

from server.auth.settings import AuthSettings, EidSettings
from server.config import settings_table

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md"


def test_the_settings_tables_are_current() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    for title, cls in (
        ("Sign-in settings (`SERVICEPOINT_AUTH_*`)", AuthSettings),
        ("eID settings (`SERVICEPOINT_AUTH_EID_*`)", EidSettings),
    ):
        table = "#" + settings_table(title, cls)
        assert table in text, f"regenerate the table of {cls.__name__} in docs/OPERATIONS.md"


def test_the_bundled_provider_is_described() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    for needle in ("make oidc-provider", "pw-", "SERVICEPOINT_AUTH_ROLE_MAP", "4010"):
        assert needle in text, needle
