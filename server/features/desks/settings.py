"""The desks feature's settings (``SERVICEPOINT_DESKS_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings


class DeskSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_DESKS_")

    call_timeout_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="A called citizen who does not respond in this many seconds is marked no-show.",
    )
