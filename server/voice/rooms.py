"""`VoiceRooms`: the voice port features use: rooms, who is in them, and signalling.

A feature that needs voice (a desk call today, an event stage later) opens a
room for some people and closes it when it ends; it never touches peer
connections. The voice signalling feature connects a member's WebRTC offer
to the room they are in. Only members of a room can join its voice, so
nothing said in one room reaches another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from protocol.errors import ProtocolError
from protocol.messages.desks import DeskError
from server.voice.errors import VoiceError
from server.voice.router import VoiceRouter


class VoiceRooms:
    def __init__(self, router: VoiceRouter) -> None:
        self.router = router
        self._members: dict[str, set[int]] = {}
        self._room_of: dict[int, str] = {}

    # -- the port features use --------------------------------------------

    async def open_room(self, room: str, members: Iterable[int]) -> None:
        """Open ``room`` for ``members`` (entity ids); opening an open room adds them."""
        await self.router.open_room(room)
        self._members.setdefault(room, set())
        for entity in members:
            await self.add_member(room, entity)

    async def add_member(self, room: str, entity: int) -> None:
        if room not in self._members:
            raise KeyError(room)
        previous = self._room_of.get(entity)
        if previous is not None and previous != room:
            await self.drop(entity)
            self._members[previous].discard(entity)
        self._members[room].add(entity)
        self._room_of[entity] = room

    async def close_room(self, room: str) -> None:
        for entity in self._members.pop(room, set()):
            if self._room_of.get(entity) == room:
                del self._room_of[entity]
        await self.router.close_room(room)

    def room_of(self, entity: int) -> str | None:
        return self._room_of.get(entity)

    def members(self, room: str) -> frozenset[int]:
        return frozenset(self._members.get(room, ()))

    # -- signalling (the voice feature) -----------------------------------

    def require_room(self, entity: int) -> str:
        """The room ``entity`` is in; ``not_in_call`` if none."""
        room = self._room_of.get(entity)
        if room is None:
            raise ProtocolError(DeskError.NOT_IN_CALL, "You are not in a desk call.")
        return room

    async def connect(self, entity: int, offer_sdp: str) -> str:
        """Join the voice of the room ``entity`` is in; returns the SDP answer."""
        return await self.router.join(self.require_room(entity), str(entity), offer_sdp)

    async def add_ice(self, entity: int, candidate: dict[str, Any]) -> None:
        await self.router.add_ice(self.require_room(entity), str(entity), candidate)

    def mute(self, entity: int, muted: bool) -> None:
        self.router.set_muted(self.require_room(entity), str(entity), muted)

    async def hangup(self, entity: int) -> None:
        """Leave the voice of one's room (``not_member`` if not connected to it)."""
        await self.router.leave(self.require_room(entity), str(entity))

    async def drop(self, entity: int) -> None:
        room = self._room_of.get(entity)
        if room is None:
            return
        with contextlib.suppress(VoiceError):  # not connected to the room's voice
            await self.router.leave(room, str(entity))

    async def close(self) -> None:
        self._members.clear()
        self._room_of.clear()
        await self.router.close()
