"""`Space`: the shared world's entities, as numpy arrays indexed by slot.

A slot is a row in the arrays; an entity id is the stable public name of an
avatar (from the store's sequence, so ids never repeat, even across restarts).
Inputs are applied here, at the edge, one message at a time; the tick reads
the arrays as they are. A freed slot is reused only after the next tick, so
the interest manager always sees a slot leave before it can come back.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from server.edge.link import ClientLink
from server.world import World
from spatial.movement import MovementRules, MoveResult


@dataclass
class Avatar:
    """One avatar in the space, and the link to its client when it has one."""

    id: int
    name: str
    role: str
    color: int
    shape: str
    slot: int = -1
    link: ClientLink | None = None
    last_seq: int = 0
    origin: int = 0
    """0: owned here; otherwise a replica of another process's avatar (`server.cluster`)."""
    subject: str = ""
    """A replica's durable subject (from the bus; a local avatar's is on its connection)."""
    verified: bool = False

    def identity(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "color": self.color,
            "avatar": self.shape,
        }


class SpaceFull(Exception):
    """No more avatars fit (``max_entities``)."""


class Space:
    def __init__(
        self, world: World, rules: MovementRules, capacity: int, max_entities: int
    ) -> None:
        self.world = world
        self.rules = rules
        self.max_entities = max_entities
        self.capacity = 0
        self.positions = np.zeros((0, 2), dtype=np.float32)
        self.yaw = np.zeros(0, dtype=np.float32)
        self.active = np.zeros(0, dtype=np.bool_)
        self.observing = np.zeros(0, dtype=np.bool_)
        self.entity_ids = np.zeros(0, dtype=np.uint32)
        self.budget = np.zeros(0, dtype=np.float64)
        self.last_move = np.zeros(0, dtype=np.float64)
        self.zone = np.zeros(0, dtype=np.int16)
        self.links = np.zeros(0, dtype=object)
        """The `ClientLink` of each slot's avatar (None without one), gathered by slot per tick."""
        self.layer = np.zeros(0, dtype=np.int16)
        """Event instance of each slot (0: the shared space; 1..: an overflow copy)."""
        self.spotlight = np.zeros(0, dtype=np.bool_)
        """On a stage: seen by every audience member, whatever the k-nearest cap."""
        self.audience = np.zeros(0, dtype=np.bool_)
        """Attends an event: sees the spotlit slots."""
        self.channel = np.zeros(0, dtype=object)
        """The rider channel whose payload rides with the slot's frames (`server.riders`)."""
        self.origin = np.zeros(0, dtype=np.int16)
        """0: the slot's avatar is owned here; k > 0: a replica from remote process k."""
        self.avatars: list[Avatar | None] = []
        self.by_id: dict[int, Avatar] = {}
        self._free: list[int] = []
        self._freed_this_tick: list[int] = []
        self._rng = random.Random()
        self._grow(capacity)

    def _grow(self, capacity: int) -> None:
        old = self.capacity
        for name in (
            "positions",
            "yaw",
            "active",
            "observing",
            "entity_ids",
            "budget",
            "last_move",
            "zone",
            "links",
            "layer",
            "spotlight",
            "audience",
            "channel",
            "origin",
        ):
            arr = getattr(self, name)
            new = np.zeros((capacity, *arr.shape[1:]), dtype=arr.dtype)
            if arr.dtype == object:
                new[:] = None
            new[:old] = arr
            setattr(self, name, new)
        self.avatars.extend([None] * (capacity - old))
        self._free.extend(range(capacity - 1, old - 1, -1))
        self.capacity = capacity

    def __len__(self) -> int:
        return len(self.by_id)

    def spawn_point(self) -> tuple[float, float, float]:
        """A random point around the world's spawn, facing into the hall."""
        angle = self._rng.uniform(0, 2 * math.pi)
        r = self.world.spawn_radius * math.sqrt(self._rng.random())
        x, z = self.rules.clamp_bounds(
            self.world.spawn[0] + r * math.cos(angle), self.world.spawn[1] + r * math.sin(angle)
        )
        return x, z, -math.pi / 2

    def add(self, avatar: Avatar, x: float, z: float, yaw: float, now: float) -> Avatar:
        """Put ``avatar`` in the world at (x, z), clamped into bounds.

        Returns the avatar with its slot set. Raises `SpaceFull`.
        """
        held = self.by_id.get(avatar.id)
        if held is not None and held is not avatar:
            if not held.origin or avatar.origin:
                raise ValueError(f"avatar {avatar.id} is already in the space")
            self.remove(held)  # it moved here (a resume) before its old owner said so
        if len(self.by_id) >= self.max_entities:
            raise SpaceFull
        if not self._free:
            self._grow(self.capacity * 2)
        slot = self._free.pop()
        x, z = self.rules.clamp_bounds(x, z)
        self.positions[slot] = (x, z)
        self.yaw[slot] = yaw
        self.active[slot] = True
        self.observing[slot] = avatar.link is not None
        self.links[slot] = avatar.link
        self.entity_ids[slot] = avatar.id
        self.budget[slot] = self.rules.budget_cap
        self.last_move[slot] = now
        avatar.slot = slot
        self.zone[slot] = self.world.zone_index(self.positions[slot : slot + 1])[0]
        self.layer[slot] = 0
        self.spotlight[slot] = False
        self.audience[slot] = False
        self.channel[slot] = None
        self.origin[slot] = avatar.origin
        self.avatars[slot] = avatar
        self.by_id[avatar.id] = avatar
        return avatar

    def remove(self, avatar: Avatar) -> None:
        """Take ``avatar`` out; observers see it leave on the next tick."""
        if self.by_id.get(avatar.id) is not avatar:
            return
        slot = avatar.slot
        del self.by_id[avatar.id]
        self.active[slot] = False
        self.observing[slot] = False
        self.links[slot] = None
        self.spotlight[slot] = False
        self.audience[slot] = False
        self.channel[slot] = None
        self.origin[slot] = 0
        self.avatars[slot] = None
        self._freed_this_tick.append(slot)
        avatar.slot = -1

    def tick_done(self) -> None:
        """Called by the tick after interest was updated: freed slots become reusable."""
        self._free.extend(self._freed_this_tick)
        self._freed_this_tick.clear()

    def move(self, avatar: Avatar, x: float, z: float, yaw: float, now: float) -> MoveResult:
        """Apply a requested move under the movement rules."""
        slot = avatar.slot
        budget = self.rules.refill(float(self.budget[slot]), now - float(self.last_move[slot]))
        cur_x, cur_z = (float(v) for v in self.positions[slot])
        result, left = self.rules.step(cur_x, cur_z, x, z, budget)
        self.positions[slot] = (result.x, result.z)
        self.yaw[slot] = math.remainder(yaw, 2 * math.pi)
        self.budget[slot] = left
        self.last_move[slot] = now
        return result

    def place(self, avatar: Avatar, x: float, z: float, yaw: float) -> tuple[float, float]:
        """Put an avatar somewhere by the server's decision (not a walk); returns where."""
        slot = avatar.slot
        self.positions[slot] = self.rules.clamp_bounds(x, z)
        self.yaw[slot] = yaw
        px, pz = self.positions[slot].tolist()
        return float(px), float(pz)

    def staged(self) -> bool:
        """Whether any slot is in an event instance, on a stage or in an audience."""
        return bool(self.spotlight.any() or self.audience.any() or self.layer.any())

    def observer_slots(self) -> NDArray[np.int32]:
        return np.flatnonzero(self.observing).astype(np.int32)

    def near(self, x: float, z: float, radius: float) -> NDArray[np.intp]:
        """Active slots within ``radius`` of (x, z)."""
        d = self.positions - np.array([x, z], dtype=np.float32)
        return np.flatnonzero(self.active & ((d * d).sum(axis=1) <= radius * radius))

    def zone_of(self, avatar: Avatar) -> int:
        return int(self.zone[avatar.slot])

    def in_zone(self, zone: int, everywhere: bool = True) -> list[Avatar]:
        """The avatars in ``zone`` (``everywhere=False``: only those owned here)."""
        mask = self.active & (self.zone == zone)
        if not everywhere:
            mask &= self.origin == 0
        slots = np.flatnonzero(mask).tolist()
        return [a for a in (self.avatars[s] for s in slots) if a is not None]

    def zone_name(self, zone: int) -> str:
        return self.world.zones[zone].id if zone >= 0 else ""
