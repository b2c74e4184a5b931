"""Events' settings (``SERVICEPOINT_EVENTS_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings


class EventSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_EVENTS_")

    zone: str = Field("auditorium", description="The world zone events take place in.")
    promote_s: int = Field(
        90, ge=0, le=3600, description="Default time a promoted attendee may speak (0: no limit)."
    )
    max_overflow: int = Field(
        20, ge=0, le=1000, description="Overflow instances an event may open when it is full."
    )
    question_rate: str = Field(
        "3/minute", description="Written questions one identity may ask (limits syntax)."
    )
    vote_rate: str = Field("30/minute", description="Question votes one identity may cast.")
    slides_max_mb: float = Field(20.0, gt=0, le=500, description="Largest slide upload.")
    slides_max_pages: int = Field(60, ge=1, le=1000, description="Most pages of a slide PDF.")
    render_timeout_s: float = Field(
        30.0, gt=0, le=600, description="Time the PDF renderer may take before it is killed."
    )
    render_memory_mb: int = Field(
        768, ge=64, le=16384, description="Address-space limit of the PDF renderer process."
    )
    uploads: int = Field(4, ge=1, le=100, description="Slide uploads in progress at once.")
    every_s: float = Field(
        1.0, gt=0, le=60, description="How often starts, ends and timed promotions are checked."
    )
