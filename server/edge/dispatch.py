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

from protocol.catalogue import CLIENT_MESSAGES
from server.plug import Feature, Handler, Person

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


class Dispatcher:
    def __init__(self, core: Collection[str], features: Sequence[Feature]) -> None:
        self.features = tuple(features)
        tables = [(f.name, dict(f.handlers())) for f in self.features]
        self.owner = check_handlers(core, [(name, table) for name, table in tables])
        self.handlers: dict[str, Handler] = {}
        for _name, table in tables:
            self.handlers.update(table)

    def handler(self, message_type: str) -> Handler | None:
        """The feature handler of a message type; None for the edge's own messages."""
        return self.handlers.get(message_type)

    def limits(self) -> Mapping[str, object]:
        out: dict[str, object] = {}
        for f in self.features:
            out.update(f.limits())
        return out

    # -- lifecycle hooks, in feature order; one failing feature never stops the rest --

    async def entered(self, person: Person, resumed: bool) -> None:
        for f in self.features:
            try:
                await f.entered(person, resumed)
            except Exception:
                log.exception("%s: entered hook failed", f.name)

    async def left(self, person: Person, for_good: bool) -> None:
        for f in self.features:
            try:
                await f.left(person, for_good)
            except Exception:
                log.exception("%s: left hook failed", f.name)

    def zone_changed(self, person: Person, zone: str) -> None:
        for f in self.features:
            try:
                f.zone_changed(person, zone)
            except Exception:
                log.exception("%s: zone hook failed", f.name)
