"""The greeter feature's settings (``SERVICEPOINT_GREETER_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings


class GreeterSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_GREETER_")

    default_service: str = Field(
        "general",
        min_length=1,
        max_length=32,
        description="The service a handover goes to when the greeter names none (the "
        "server's own offer after two unhelpful answers); must be a service of the world.",
    )
    max_turns: int = Field(
        20,
        ge=1,
        le=100,
        description="The most citizen messages one greeter conversation relays to the bot; "
        "after that the greeter offers a person instead of answering.",
    )
    offer_wait_s: float = Field(
        2.0,
        ge=0,
        le=60,
        description="After a second unhelpful answer, how long the server waits for the bot "
        "to offer the handover before it offers it itself.",
    )
