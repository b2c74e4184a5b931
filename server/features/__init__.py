"""The feature index: every capability of the server, one line each, in hook order.

Adding a feature is a package under ``server/features/<name>/`` plus one line
here (and one in ``protocol/messages/__init__.py`` and one in the web
client's ``clients/web/src/features/index.js``).
"""

from pydantic_settings import BaseSettings

from server.config import Config
from server.features.audit import AuditTrail
from server.features.chat import Chat
from server.features.desks import Desks
from server.features.events import Events
from server.features.feedback import Feedback
from server.features.greeter import Greeter
from server.features.insight import InsightFeature
from server.features.moderation import Moderation
from server.features.qa import QaWall
from server.features.scorecard import Scorecards
from server.features.training import Training
from server.features.voice import VoiceSignalling
from server.plug import FeatureClass

FEATURES: tuple[FeatureClass, ...] = (
    Chat,
    Moderation,
    Desks,
    VoiceSignalling,
    Feedback,
    InsightFeature,
    Scorecards,
    Training,
    QaWall,
    Greeter,
    Events,
    AuditTrail,
)


def settings_sections() -> list[tuple[str, type[BaseSettings]]]:
    """The core settings and each feature's section, for docs/CONFIGURATION.md."""
    sections: list[tuple[str, type[BaseSettings]]] = [("Core", Config)]
    seen: set[type[BaseSettings]] = {Config}
    for cls in FEATURES:
        if cls.Settings not in seen and cls.Settings.model_fields:
            seen.add(cls.Settings)
            sections.append((f"Feature: {cls.name}", cls.Settings))
    return sections
