"""The training feature's settings (``SERVICEPOINT_TRAINING_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from server.config import FeatureSettings
from server.features.training.scenarios import SHIPPED_DIR


class TrainingSettings(FeatureSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPOINT_TRAINING_")

    scenarios: Path | None = Field(
        None, description="Directory of training scenarios (*.toml); unset: server/data/training."
    )
    audio_dir: Path | None = Field(
        None,
        description="Where the citizens' voice clips are generated (espeak-ng) and cached by "
        "content hash; unset: <data_dir>/training/audio.",
    )
    pregenerate: bool = Field(
        True,
        description="Generate every scenario's clips in the background at start (otherwise "
        "only when a scenario starts).",
    )
    espeak: str = Field("espeak-ng", description="The speech synthesiser's command.")
    join_timeout_s: float = Field(
        20.0, gt=0, le=600, description="How long a started simulated citizen has to join."
    )
    linger_s: float = Field(
        30.0,
        gt=0,
        le=600,
        description="After the last line, how long the simulated citizen may take to leave "
        "before it is stopped.",
    )

    def scenarios_dir(self) -> Path:
        return self.scenarios or SHIPPED_DIR
