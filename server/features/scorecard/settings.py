"""The scorecard's settings (``SERVICEPOINT_SCORECARD_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings

SHIPPED_RULES = Path(__file__).resolve().parent.parent.parent / "data" / "scorecard.toml"


class ScorecardSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_SCORECARD_")

    rules: Path | None = Field(
        None,
        description="The scorecard rules (TOML), reloaded when they change; "
        "unset: the shipped server/data/scorecard.toml.",
    )
    refresh_s: float = Field(
        1.0, gt=0, le=60, description="How often new log entries are scored and sent."
    )
    works_agreement: bool = Field(
        False,
        description="Co-determination mode (BetrVG §87, MBL §11): managers see team "
        "aggregates only, for groups of at least min_group; every view is audited.",
    )
    min_group: int = Field(
        5, ge=1, le=1000, description="Smallest group whose aggregates are shown (works agreement)."
    )
    history_days: int = Field(
        180, ge=1, le=3650, description="Per-case point history older than this is purged."
    )
    top_n: int = Field(5, ge=1, le=100, description="How many the opt-in board shows at the top.")

    def rules_path(self) -> Path:
        return self.rules or SHIPPED_RULES
