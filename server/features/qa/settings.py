"""The Q&A wall's settings (``SERVICEPOINT_QA_*``)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings

TOPIC_TYPES = ("question", "idea", "problem", "praise", "announcement")


class QaSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_QA_")

    answer_target_s: float = Field(
        2 * 86400.0,
        gt=0,
        le=365 * 86400,
        description="Target time for an official answer to a question or problem.",
    )
    answer_targets: dict[str, float] = Field(
        default_factory=lambda: {"general": 86400.0, "registration": 2 * 86400.0},
        description='Per-service targets in seconds, as JSON, e.g. {"benefits": 259200}; '
        "other services use answer_target_s.",
    )
    premoderate: list[str] = Field(
        default_factory=list,
        description='Services whose new posts wait for a moderator, as JSON, e.g. ["benefits"].',
    )
    new_topic_rate: str = Field(
        "1/10 minutes", description="Topics a new identity may open (limits syntax)."
    )
    topic_rate: str = Field("10/hour", description="Topics an established identity may open.")
    new_reply_rate: str = Field("5/10 minutes", description="Replies and edits by a new identity.")
    reply_rate: str = Field("60/hour", description="Replies and edits by an established identity.")
    vote_rate: str = Field("30/minute", description="Votes and flags by any identity.")
    flag_hide_weight: float = Field(
        3.0,
        gt=0,
        le=100,
        description="Flags hide a post until staff look once their weights add up to this "
        "(new identity 0.5, established 1, helper 2, staff 3).",
    )
    retention_days: dict[str, float] = Field(
        default_factory=lambda: {"announcement": 365.0},
        description="Days after its last activity a topic of a type is kept, as JSON by type; "
        "types not listed are kept.",
    )
    retention_action: str = Field(
        "archive",
        pattern="^(archive|purge)$",
        description="What happens to an expired topic: archive (read-only) or purge (deleted).",
    )
    retention_every_s: float = Field(
        3600.0, gt=0, le=7 * 86400, description="How often the retention job runs."
    )
    overdue_every_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="How often overdue questions are recounted for the gauges and alerts.",
    )
    follow_every_s: float = Field(
        0.5,
        gt=0,
        le=60,
        description="How often the changes other server processes made (a cluster on one"
        " Redis) are read into this one's board, index and watchers.",
    )
    wall_every_s: float = Field(
        2.0, gt=0, le=600, description="The hall's Q&A board is redrawn at most this often."
    )
    watch_max: int = Field(
        50, ge=1, le=1000, description="Topics one connection watches live at most."
    )

    @field_validator("retention_days")
    @classmethod
    def _known_types(cls, value: dict[str, float]) -> dict[str, float]:
        if bad := sorted(set(value) - set(TOPIC_TYPES)):
            raise ValueError(f"unknown topic types {bad}; use {', '.join(TOPIC_TYPES)}")
        if any(v <= 0 for v in value.values()):
            raise ValueError("retention days must be positive")
        return value

    def target_s(self, service: str | None) -> float:
        return float(self.answer_targets.get(service or "", self.answer_target_s))
