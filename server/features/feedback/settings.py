"""The feedback feature's settings (``SERVICEPOINT_FEEDBACK_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings


class FeedbackSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_FEEDBACK_")

    survey_open_s: float = Field(
        86400.0,
        gt=0,
        le=30 * 86400,
        description="A case's survey stays open this long (offered again when they come back).",
    )
    kiosk_radius_m: float = Field(
        4.0,
        gt=0,
        le=50,
        description="How close to a kiosk a citizen must stand to ask for its survey.",
    )
    kiosk_every_s: float = Field(
        3600.0,
        ge=0,
        le=7 * 86400,
        description="One kiosk answer per citizen identity in this many seconds.",
    )
