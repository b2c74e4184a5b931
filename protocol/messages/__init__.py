"""The index of features: each declares its own wire vocabulary in its module.

`FEATURES` lists them, one line per feature; `protocol.catalogue` assembles
them and refuses a message type (per direction) or an error code that two
features both define. To add a feature, write its module with a
`~protocol.spec.FeatureProtocol` named ``PROTOCOL`` and add it here.
"""

from __future__ import annotations

from protocol.messages import (
    audit,
    chat,
    core,
    desks,
    events,
    feedback,
    greeter,
    insight,
    moderation,
    qa,
    scorecard,
    training,
    voice,
)
from protocol.spec import FeatureProtocol

FEATURES: tuple[FeatureProtocol, ...] = (
    core.PROTOCOL,
    chat.PROTOCOL,
    moderation.PROTOCOL,
    desks.PROTOCOL,
    voice.PROTOCOL,
    feedback.PROTOCOL,
    insight.PROTOCOL,
    scorecard.PROTOCOL,
    training.PROTOCOL,
    qa.PROTOCOL,
    greeter.PROTOCOL,
    events.PROTOCOL,
    audit.PROTOCOL,
)
