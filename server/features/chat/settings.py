"""The chat feature's settings (``SERVICEPOINT_CHAT_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings


class ChatSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_CHAT_")

    radius: float = Field(15.0, gt=0, le=500, description="Reach of `near` chat, metres.")
    history: int = Field(50, ge=0, le=200, description="Zone chat lines kept per zone.")
