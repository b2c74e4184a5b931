"""Voice settings (``SERVICEPOINT_VOICE_*``), read by the app for the voice port."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings


class VoiceSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_VOICE_")

    enabled: bool = Field(
        True,
        description="Offer WebRTC voice at all; `false` where UDP cannot reach the server "
        "(desk calls then use text only, and voice requests get `voice_unavailable`).",
    )
    hosts: str = Field(
        "",
        description="Comma-separated IP addresses the voice router offers as WebRTC host "
        "candidates; empty means every interface. The server is the only peer a browser sees.",
    )
    connect_timeout_s: float = Field(
        30.0,
        gt=0,
        le=600,
        description="A participant whose WebRTC connection is not up this long after the "
        "offer is dropped.",
    )

    stage_listener_budget: int = Field(
        500,
        ge=0,
        le=100_000,
        description="WebRTC listeners an event stage takes per process; beyond it listeners "
        "use the WebSocket listen-only path (`listener_budget`).",
    )

    def host_list(self) -> list[str]:
        return [h.strip() for h in self.hosts.split(",") if h.strip()]
