"""`Dispatcher`: which handler serves each client message, and the features' lifecycle hooks.

Built once at start-up from the edge's own handlers (the session: hello,
join, move, ping, bye) and every feature's. It refuses to start unless every
client message in the catalogue has exactly one handler and every handler
serves a message of the catalogue, so a message can never go unanswered
because nobody plugged it in.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from protocol.catalogue import CLIENT_MESSAGES
from protocol.codec import Message
from protocol.errors import ErrorCode, ProtocolError
from server.plug import Feature, Handler, Person, Sender

log = logging.getLogger(__name__)


class DispatchError(RuntimeError):
    """The handler table does not match the catalogue; the message names the culprit."""


def check_handlers(
    core: Collection[str], features: Sequence[tuple[str, Collection[str]]]
) -> dict[str, str]:
    """Map each client message type to the one owner (``edge`` or a feature) that handles it."""
    owner: dict[str, str] = {t: "edge" for t in core}
    for name, types in features:
        for t in types:
            if t in owner:
                raise DispatchError(f"'{t}' is handled by both {owner[t]} and {name}")
            owner[t] = name
    unknown = sorted(set(owner) - set(CLIENT_MESSAGES))
    if unknown:
        raise DispatchError(f"handlers for messages not in the catalogue: {', '.join(unknown)}")
    missing = sorted(set(CLIENT_MESSAGES) - set(owner))
    if missing:
        raise DispatchError(f"client messages without a handler: {', '.join(missing)}")
    return owner


class HomeRoute(Protocol):
    """In a cluster: the way to the feature home (`server.cluster.home.FeatureHome`)."""

    @property
    def is_home(self) -> bool: ...
    @property
    def ready(self) -> bool: ...
    async def forward(self, feature: str, sender: Sender, msg: Message) -> None: ...
    def forward_hook(self, feature: str, hook: str, person: Person, arg: str | bool) -> None: ...


class Dispatcher:
    def __init__(self, core: Collection[str], features: Sequence[Feature]) -> None:
        self.features = tuple(features)
        tables = [(f.name, dict(f.handlers())) for f in self.features]
        self.owner = check_handlers(core, [(name, table) for name, table in tables])
        self.handlers: dict[str, Handler] = {}
        for _name, table in tables:
            self.handlers.update(table)
        self._feature_of = {t: f for f in self.features for t in f.handlers()}
        self.home: HomeRoute | None = None
        """Set in a cluster: a feature that runs at home (`Feature.home`) is reached there."""

    def handler(self, message_type: str) -> Handler | None:
        """The feature handler of a message type; None for the edge's own messages. In a
        cluster, on a process that is not the feature home, a handler that forwards the
        message there when the feature says so (`Feature.at_home`)."""
        handler = self.handlers.get(message_type)
        home = self.home
        if handler is None or home is None:
            return handler
        feature = self._feature_of[message_type]
        if home.is_home:
            return handler if home.ready or not feature.home else _not_ready
        if not feature.home and type(feature).at_home is Feature.at_home:
            return handler
        route = home

        async def routed(sender: Sender, msg: Message) -> None:
            if feature.at_home(sender):
                await route.forward(feature.name, sender, msg)
            else:
                await handler(sender, msg)

        return routed

    def _away(self, feature: Feature) -> HomeRoute | None:
        """The home to forward ``feature``'s hooks to, when it runs there and not here."""
        home = self.home
        if home is None or not feature.home or home.is_home:
            return None
        return home

    def limits(self) -> Mapping[str, object]:
        out: dict[str, object] = {}
        for f in self.features:
            out.update(f.limits())
        return out

    # -- lifecycle hooks, in feature order; one failing feature never stops the rest --

    async def entered(self, person: Person, resumed: bool) -> None:
        for f in self.features:
            if (home := self._away(f)) is not None:
                home.forward_hook(f.name, "entered", person, resumed)
                continue
            try:
                await f.entered(person, resumed)
            except Exception:
                log.exception("%s: entered hook failed", f.name)

    async def left(self, person: Person, for_good: bool) -> None:
        for f in self.features:
            if (home := self._away(f)) is not None:
                home.forward_hook(f.name, "left", person, for_good)
                continue
            try:
                await f.left(person, for_good)
            except Exception:
                log.exception("%s: left hook failed", f.name)

    def zone_changed(self, person: Person, zone: str) -> None:
        for f in self.features:
            if (home := self._away(f)) is not None:
                home.forward_hook(f.name, "zone", person, zone)
                continue
            try:
                f.zone_changed(person, zone)
            except Exception:
                log.exception("%s: zone hook failed", f.name)


async def _not_ready(sender: Sender, msg: Message) -> None:
    raise ProtocolError(
        ErrorCode.NOT_READY, "This is getting ready here. Try again in a moment.", msg["t"]
    )
