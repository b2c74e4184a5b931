"""The insight feature's settings (``SERVICEPOINT_INSIGHT_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings

SHIPPED_RULES = Path(__file__).resolve().parent.parent.parent / "data" / "alerts.toml"


class InsightSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_INSIGHT_")

    refresh_s: float = Field(
        1.0,
        gt=0,
        le=60,
        description="How often new log entries are read, figures updated and alerts evaluated.",
    )
    alert_rules: Path | None = Field(
        None,
        description="The alert rules file (TOML), reloaded when it changes; "
        "unset: the shipped server/data/alerts.toml.",
    )

    def rules_path(self) -> Path:
        return self.alert_rules or SHIPPED_RULES

    webhook_url: str = Field(
        "",
        description="POST alerts here in Alertmanager's webhook format; empty: no webhook.",
    )
    webhook_queue: int = Field(
        100, ge=1, le=100_000, description="Notifications held for the webhook; the oldest drop."
    )
    external_url: str = Field(
        "http://127.0.0.1:8000/dashboard.html",
        description="The dashboard's address, sent as ``externalURL`` in webhook payloads.",
    )
    trend_days: int = Field(30, ge=1, le=366, description="Days of trend the dashboard shows.")
