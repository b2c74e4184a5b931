"""The feature index: every capability of the server, one line each, in hook order.

Adding a feature is a package under ``server/features/<name>/`` plus one line
here (and one in ``protocol/messages/__init__.py`` and one in the web
client's ``clients/web/src/features/index.js``).
"""

from server.features.chat import Chat
from server.features.desks import Desks
from server.features.moderation import Moderation
from server.features.voice import VoiceSignalling
from server.plug import FeatureClass

FEATURES: tuple[FeatureClass, ...] = (
    Chat,
    Moderation,
    Desks,
    VoiceSignalling,
)
