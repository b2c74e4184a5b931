"""State frames: the per-tick, per-observer msgpack message with entity state.

Wire format (protocol v4; one msgpack map, keys in this order, absent keys
mean "none")::

    {"t": "f", "k": tick, "i": <bin ids>, "p": <bin positions>,
     "d": <bin deltas>, "r": <bin yaw>, "ri": <bin ids>, "rs": <bin shifts>}

* ``k`` - the tick number, a msgpack uint.
* ``i`` - entity ids, uint32 little-endian: the ``n`` entities this frame
  updates, first the ``a`` absolute entries, then the ``n - a`` delta entries.
* ``p`` - absolute positions, int16 little-endian pairs ``x, z`` for the first
  ``a`` entries of ``i`` (``a = len(p) / 4``).
* ``d`` - position deltas, int8 pairs ``dx, dz`` in centimetres for the other
  ``n - a`` entries: add them to the position the receiver holds for that id
  (from an earlier frame of this connection).
* ``r`` - yaw, uint16 little-endian, one per entry of ``i``.
* ``ri``/``rs`` - rate changes: for each id in ``ri`` (uint32), the uint8 in
  ``rs`` is ``log2`` of its update interval in ticks (0 every tick .. 3 every
  eighth) from now on; an entity never named has shift 0.

An entity not in ``i`` is where it was (it did not change, or is updated at a
lower rate); ``enter`` gives the start position. A frame that updates nothing
may be left out, but the server sends one at least every second (then only
``t`` and ``k``). The full-rate encoding of v3 (`StateFrameEncoder`: every
visible entity absolute, every tick, no ``d``/``ri``/``rs``) is a valid v4
frame; `protocol.delta.DeltaFrameEncoder` writes the delta frames. Decoding a
delta frame needs the connection's earlier frames: `StateFrameDecoder`.

Quantisation:

* position: ``q = round(metres * POSITION_SCALE)`` clamped to int16, i.e. 1 cm
  steps over -327.68 m .. +327.67 m; decode as ``q / POSITION_SCALE``.
* yaw: ``q = round(yaw / 2pi * 65536) mod 65536`` (about 0.0055 degrees per
  step); decode as ``q * 2pi / 65536`` in ``[0, 2pi)``.
* Non-finite inputs quantise to 0 (they never come from active entities).

The encoders write the msgpack bytes themselves (header bytes by hand, bodies
as numpy views), but the result is byte-for-byte what ``msgpack.packb(frame,
use_bin_type=True)`` produces for the same map, so any msgpack decoder reads it.
This module imports only numpy and msgpack.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "POSITION_SCALE",
    "YAW_STEPS",
    "DecodedFrame",
    "StateFrameDecoder",
    "StateFrameEncoder",
    "decode_state_frame",
    "quantise_positions",
    "quantise_yaw",
]

POSITION_SCALE = 100.0
YAW_STEPS = 65536
_YAW_TO_Q = YAW_STEPS / (2.0 * math.pi)
_Q_TO_YAW = (2.0 * math.pi) / YAW_STEPS
_I16_MIN = -32768.0
_I16_MAX = 32767.0


def quantise_positions(xz: NDArray[np.float32]) -> NDArray[np.int16]:
    """``(n, 2)`` metres to int16 centimetres: ``round(m * 100)`` clamped to int16.

    Rounds half to even (``numpy.rint``); NaN becomes 0, +-inf clamps.
    """
    q = np.rint(np.asarray(xz, dtype=np.float64) * POSITION_SCALE)
    np.clip(q, _I16_MIN, _I16_MAX, out=q)
    q[np.isnan(q)] = 0.0
    return q.astype("<i2")


def quantise_yaw(yaw: NDArray[np.float32]) -> NDArray[np.uint16]:
    """Radians to uint16 turns: ``round(yaw / 2pi * 65536) mod 65536``.

    Any finite angle is accepted (wrapped); non-finite becomes 0.
    """
    q = np.rint(np.asarray(yaw, dtype=np.float64) * _YAW_TO_Q)
    q[~np.isfinite(q)] = 0.0
    # fmod keeps the value exact for huge angles; the mask wraps negatives
    np.fmod(q, YAW_STEPS, out=q)
    return (q.astype(np.int64) & (YAW_STEPS - 1)).astype("<u2")


def _uint_header(value: int) -> bytes:
    """Minimal msgpack encoding of a non-negative integer, like msgpack.packb."""
    if value < 0x80:
        return bytes((value,))
    if value <= 0xFF:
        return b"\xcc" + value.to_bytes(1, "big")
    if value <= 0xFFFF:
        return b"\xcd" + value.to_bytes(2, "big")
    if value <= 0xFFFFFFFF:
        return b"\xce" + value.to_bytes(4, "big")
    return b"\xcf" + value.to_bytes(8, "big")


def _bin_header(nbytes: int) -> bytes:
    """Minimal msgpack bin header for ``nbytes`` bytes of payload."""
    if nbytes <= 0xFF:
        return b"\xc4" + nbytes.to_bytes(1, "big")
    if nbytes <= 0xFFFF:
        return b"\xc5" + nbytes.to_bytes(2, "big")
    return b"\xc6" + nbytes.to_bytes(4, "big")


_MAP_HEAD = b"\x85\xa1t\xa1f\xa1k"


class StateFrameEncoder:
    """Builds the state frames of one tick for many observers.

    ``StateFrameEncoder().encode(tick, entity_ids, positions, yaw, visible_ptr,
    visible)`` returns one ``bytes`` per observer row of the CSR
    ``(visible_ptr, visible)`` (for example an :class:`spatial.interest.InterestDiff`'s
    ``visible_ptr``/``visible``). Entity arrays are indexed by slot. State is
    quantised once per tick and gathered per observer; an observer with an
    empty row still gets a (valid, empty) frame. The encoder keeps only a
    cache of header bytes, so one instance can serve every tick.
    """

    def __init__(self) -> None:
        self._mid_cache: dict[int, tuple[bytes, bytes, bytes]] = {}
        # reused scratch for the byte records: fresh large arrays cost page faults
        self._scratch = np.empty(0, dtype=np.uint8)

    def _mids(self, count: int) -> tuple[bytes, bytes, bytes]:
        mids = self._mid_cache.get(count)
        if mids is None:
            mids = (
                b"\xa1i" + _bin_header(4 * count),
                b"\xa1p" + _bin_header(4 * count),
                b"\xa1r" + _bin_header(2 * count),
            )
            if len(self._mid_cache) < 4096:
                self._mid_cache[count] = mids
        return mids

    def encode(
        self,
        tick: int,
        entity_ids: NDArray[np.uint32],
        positions: NDArray[np.float32],
        yaw: NDArray[np.float32],
        visible_ptr: NDArray[np.int64],
        visible: NDArray[np.int32],
    ) -> list[bytes]:
        """One msgpack state frame per observer row, in row order.

        ``entity_ids`` ``(capacity,)`` uint32, ``positions`` ``(capacity, 2)``
        metres, ``yaw`` ``(capacity,)`` radians; ``visible_ptr`` has one more
        element than there are observers. Raises ``ValueError`` for a negative
        tick or a malformed CSR.
        """
        if tick < 0:
            raise ValueError("tick must be >= 0")
        ptr = np.asarray(visible_ptr, dtype=np.int64)
        vis = np.asarray(visible, dtype=np.int64)
        if ptr.ndim != 1 or ptr.size < 1 or ptr[0] != 0 or ptr[-1] != vis.size:
            raise ValueError("visible_ptr must start at 0 and end at len(visible)")
        counts = np.diff(ptr)
        if counts.size and int(counts.min()) < 0:
            raise ValueError("visible_ptr must be non-decreasing")
        nrows = counts.size
        if nrows == 0:
            return []
        head = _MAP_HEAD + _uint_header(int(tick))

        # Quantise once: the whole slot table when that is smaller than the gather,
        # otherwise only the gathered rows (identical results either way). Positions
        # are handled as one uint32 (the x,z int16 pair) so every gather is 1-D.
        capacity = np.asarray(entity_ids).shape[0]
        by_slot = vis.size >= capacity
        src = slice(None) if by_slot else vis
        q_ids = np.ascontiguousarray(np.asarray(entity_ids)[src], dtype="<u4")
        q_pos = np.ascontiguousarray(quantise_positions(np.asarray(positions)[src])).view("<u4")
        q_pos = q_pos.reshape(-1)
        q_yaw = quantise_yaw(np.asarray(yaw)[src])

        frames: list[bytes] = [b""] * nrows
        # Frames with the same entity count share one byte layout: build each such
        # group as one 2-D byte array (no per-entity Python work), then slice it.
        order = np.argsort(counts, kind="stable")
        sorted_counts = counts[order]
        bounds = np.flatnonzero(np.diff(sorted_counts)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [nrows]))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            rows = order[s:e]
            c = int(sorted_counts[s])
            mi, mp, mr = self._mids(c)
            a = len(head) + len(mi)
            b = a + 4 * c
            pb = b + len(mp)
            pe = pb + 4 * c
            rb = pe + len(mr)
            size = rb + 2 * c
            if self._scratch.size < rows.size * size:
                self._scratch = np.empty(2 * rows.size * size, dtype=np.uint8)
            rec = self._scratch[: rows.size * size].reshape(rows.size, size)
            rec[:, :a] = np.frombuffer(head + mi, dtype=np.uint8)
            rec[:, b:pb] = np.frombuffer(mp, dtype=np.uint8)
            rec[:, pe:rb] = np.frombuffer(mr, dtype=np.uint8)
            if c:
                el = (ptr[rows][:, None] + np.arange(c, dtype=np.int64)).ravel()
                if by_slot:
                    el = vis[el]
                rec[:, a:b] = q_ids[el].view(np.uint8).reshape(rows.size, 4 * c)
                rec[:, pb:pe] = q_pos[el].view(np.uint8).reshape(rows.size, 4 * c)
                rec[:, rb:] = q_yaw[el].view(np.uint8).reshape(rows.size, 2 * c)
            parts = [record.tobytes() for record in rec]
            if rows.size == nrows:  # one group covering every row: order is identity
                return parts
            for r, part in zip(rows.tolist(), parts, strict=True):
                frames[r] = part
        return frames


_EMPTY = b""


@dataclass(frozen=True)
class DecodedFrame:
    """A state frame read back: ``ids`` uint32, ``positions`` ``(n, 2)`` float32
    metres, ``yaw`` float32 radians in ``[0, 2pi)``, all in wire order (deltas
    already applied); ``rate_ids``/``rate_shifts``: the frame's rate changes."""

    tick: int
    ids: NDArray[np.uint32]
    positions: NDArray[np.float32]
    yaw: NDArray[np.float32]
    rate_ids: NDArray[np.uint32] = field(default_factory=lambda: np.zeros(0, np.uint32))
    rate_shifts: NDArray[np.uint8] = field(default_factory=lambda: np.zeros(0, np.uint8))


@dataclass(frozen=True)
class _RawFrame:
    tick: int
    ids: NDArray[np.uint32]
    absolute: NDArray[np.int16]
    deltas: NDArray[np.int8]
    yaw: NDArray[np.float32]
    rate_ids: NDArray[np.uint32]
    rate_shifts: NDArray[np.uint8]


def _parse(msg: Mapping[str, object]) -> _RawFrame:
    if msg.get("t") != "f":
        raise ValueError("not a state frame")
    tick = msg.get("k")
    if not isinstance(tick, int) or isinstance(tick, bool) or tick < 0:
        raise ValueError("state frame tick must be a non-negative integer")
    raw = {}
    for key in ("i", "p", "d", "r", "ri", "rs"):
        value = msg.get(key, _EMPTY)
        if not isinstance(value, bytes | bytearray | memoryview):
            raise ValueError(f"state frame field {key!r} must be binary")
        raw[key] = bytes(value)
    n, rest = divmod(len(raw["i"]), 4)
    a, rest_p = divmod(len(raw["p"]), 4)
    nd, rest_d = divmod(len(raw["d"]), 2)
    if rest or rest_p or rest_d or a + nd != n or len(raw["r"]) != 2 * n:
        raise ValueError("state frame bins disagree on the number of entities")
    nr, rest_r = divmod(len(raw["ri"]), 4)
    if rest_r or len(raw["rs"]) != nr:
        raise ValueError("state frame rate bins disagree")
    shifts = np.frombuffer(raw["rs"], dtype=np.uint8).copy()
    if shifts.size and int(shifts.max()) > 3:
        raise ValueError("state frame rate shift must be 0..3")
    return _RawFrame(
        tick=int(tick),
        ids=np.frombuffer(raw["i"], dtype="<u4").astype(np.uint32),
        absolute=np.frombuffer(raw["p"], dtype="<i2").reshape(a, 2).astype(np.int16),
        deltas=np.frombuffer(raw["d"], dtype=np.int8).reshape(nd, 2).copy(),
        yaw=np.frombuffer(raw["r"], dtype="<u2").astype(np.float32) * np.float32(_Q_TO_YAW),
        rate_ids=np.frombuffer(raw["ri"], dtype="<u4").astype(np.uint32),
        rate_shifts=shifts,
    )


def _metres(q: NDArray[np.int16]) -> NDArray[np.float32]:
    pos = q.astype(np.float32)
    pos /= np.float32(POSITION_SCALE)
    return pos


def decode_state_frame(msg: Mapping[str, object]) -> DecodedFrame:
    """Decode an already-unpacked state frame map (``msgpack.unpackb(raw=False)``)
    that has no delta entries (a full-rate frame); for delta frames use a
    `StateFrameDecoder` per connection.

    Raises ``ValueError`` if it is not a state frame, the bins' lengths do
    not describe the same number of entities, or it has deltas.
    """
    f = _parse(msg)
    if f.deltas.shape[0]:
        raise ValueError("a delta frame needs the connection's StateFrameDecoder")
    return DecodedFrame(f.tick, f.ids, _metres(f.absolute), f.yaw, f.rate_ids, f.rate_shifts)


class StateFrameDecoder:
    """Decodes one connection's state frames, applying deltas to what it holds.

    ``dec = StateFrameDecoder(); frame = dec.decode(msg)`` for every ``"f"`` in
    order. It keeps the last quantised position of every id an absolute entry
    named (ids that left may be kept; a re-entered id gets an absolute entry
    first). Raises ``ValueError`` for a malformed frame or a delta for an id it
    has no position of (the state is then unchanged).
    """

    def __init__(self) -> None:
        self._ids = np.zeros(0, dtype=np.uint32)  # sorted
        self._q = np.zeros((0, 2), dtype=np.int16)

    def __len__(self) -> int:
        return int(self._ids.size)

    def position_q(self, entity: int) -> tuple[int, int] | None:
        """The quantised ``(x, z)`` held for ``entity``, or None."""
        k = int(np.searchsorted(self._ids, entity))
        if k < self._ids.size and int(self._ids[k]) == entity:
            x, z = self._q[k].tolist()
            return int(x), int(z)
        return None

    def forget(self, ids: list[int] | NDArray[np.uint32]) -> None:
        """Drop what is held for ``ids`` (after they left), to bound memory."""
        keep = ~np.isin(self._ids, np.asarray(ids, dtype=np.uint32))
        self._ids = self._ids[keep]
        self._q = self._q[keep]

    def decode(self, msg: Mapping[str, object]) -> DecodedFrame:
        f = _parse(msg)
        a = f.absolute.shape[0]
        q = np.empty((f.ids.size, 2), dtype=np.int16)
        q[:a] = f.absolute
        if f.deltas.shape[0]:
            did = f.ids[a:]
            k = np.searchsorted(self._ids, did)
            kk = np.minimum(k, max(self._ids.size - 1, 0))
            if not self._ids.size or not np.array_equal(self._ids[kk], did):
                raise ValueError("state frame delta for an entity without a position")
            q[a:] = (self._q[kk].astype(np.int32) + f.deltas).astype(np.int16)
        if f.ids.size:
            # upsert: the frame's entries replace what is held (ids are unique in a frame)
            ids = np.concatenate((f.ids, self._ids))
            qs = np.concatenate((q, self._q))
            uniq, first = np.unique(ids, return_index=True)
            self._ids = uniq.astype(np.uint32)
            self._q = qs[first]
        return DecodedFrame(f.tick, f.ids, _metres(q), f.yaw, f.rate_ids, f.rate_shifts)
