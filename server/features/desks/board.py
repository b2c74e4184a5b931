"""`DeskBoard`: the public queue display of the service point (``desk_board``).

What every citizen may see, like the screens of a real service centre: per
desk whether it is staffed and which ticket is called to it or served there,
and the latest calls ("Now serving A-014 at Desk 2"). Ticket and desk ids
only: never a name, a subject, an entity id or a service's notes.

Call `DeskBoard.changed` after anything that may change the board (the desk
service does it wherever the queue or duty changes) and `DeskBoard.called`
when a ticket is called to a desk. Changes are coalesced: the board is built
at most once per ``interval_s``, sent only when it differs from the last one,
and encoded once for everyone in the service point (every zone except event
zones: an audience of thousands in the auditorium does not need it). Someone
entering gets it at once (`send_to`), and so does someone walking in from an
event zone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from protocol.codec import encode
from protocol.messages.desks import BOARD_CALLS
from server.plug import FeatureContext
from server.tasks import Timer

EVENT_ZONE_KIND = "event"
INTERVAL_S = 0.3
"""At most one board this often (seconds): bursts of changes go out together."""

Staffed = Callable[[], Iterable[str]]
"""The desks someone is on duty at and available (desk ids)."""
Serving = Callable[[], Iterable[tuple[str, str]]]
"""(desk, ticket) for each ticket called to or served at a desk."""


class DeskBoard:
    def __init__(
        self,
        ctx: FeatureContext,
        staffed: Staffed,
        serving: Serving,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.ctx = ctx
        self._staffed = staffed
        self._serving = serving
        self.interval_s = interval_s
        self.calls: deque[tuple[str, str]] = deque(maxlen=BOARD_CALLS)
        """(ticket, desk) of the latest calls, newest first."""
        self._timer: Timer | None = None
        self._sent: dict[str, Any] | None = None
        self._bytes: bytes | None = None
        self._in_event: set[int] = set()
        """People last seen walking into an event zone (they get no boards there)."""
        self.sends = 0
        """How many boards went out to the service point (for tests of coalescing)."""

    def seed(self, calls: Iterable[tuple[float, str, str]]) -> None:
        """After a restart: the latest calls from the rebuilt queue, as
        ``(called_at, ticket, desk)`` in any order."""
        self.calls.clear()
        for _at, ticket, desk in sorted(calls)[-BOARD_CALLS:]:
            self.calls.appendleft((ticket, desk))

    def called(self, ticket: str, desk: str) -> None:
        """``ticket`` was called to ``desk`` (a ticket called again moves to the top)."""
        if (ticket, desk) in self.calls:
            self.calls.remove((ticket, desk))
        self.calls.appendleft((ticket, desk))
        self.changed()

    def board(self) -> dict[str, Any]:
        """The ``desk_board`` message as it stands now."""
        staffed = set(self._staffed())
        serving = dict(self._serving())
        desks: list[dict[str, Any]] = []
        for desk in self.ctx.world.desks:
            entry: dict[str, Any] = {"desk": desk.id, "staffed": desk.id in staffed}
            if desk.id in serving:
                entry["serving"] = serving[desk.id]
            desks.append(entry)
        calls = [{"ticket": ticket, "desk": desk} for ticket, desk in self.calls]
        return {"t": "desk_board", "desks": desks, "calls": calls}

    def changed(self) -> None:
        """Something may have changed: send the board within ``interval_s`` (once)."""
        if self._timer is None:
            self._timer = self.ctx.tasks.later(self.interval_s, self.flush)

    def flush(self) -> None:
        """Send the board now to everyone in the service point, if it changed."""
        self._timer = None
        board = self.board()
        if board == self._sent:
            return
        self._sent = board
        self._bytes = encode(board)
        self.ctx.notify.to_many(self.audience(), self._bytes)
        self.sends += 1

    def audience(self) -> list[int]:
        """Everyone in a zone that is not an event zone."""
        out: list[int] = []
        for zone in self.ctx.world.zones:
            if zone.kind != EVENT_ZONE_KIND:
                out.extend(self.ctx.people.in_zone(zone.id))
        return out

    def send_to(self, entity: int) -> None:
        """The current board to one person (entering, or walking in from an event)."""
        if self._bytes is None or self._timer is not None:
            # Nothing sent yet, or a change is pending: build it fresh for this one.
            self.ctx.notify.to(entity, self.board())
        else:
            self.ctx.notify.to(entity, self._bytes)

    def zone_changed(self, entity: int, zone: str) -> None:
        """Back from an event zone: the board may have changed meanwhile."""
        kinds = {z.id: z.kind for z in self.ctx.world.zones}
        if kinds.get(zone, "") == EVENT_ZONE_KIND:
            self._in_event.add(entity)
        elif entity in self._in_event:
            self._in_event.discard(entity)
            self.send_to(entity)

    def forget(self, entity: int) -> None:
        """``entity``'s connection ended."""
        self._in_event.discard(entity)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
