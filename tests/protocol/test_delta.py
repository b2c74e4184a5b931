"""Delta state frames: what a receiver decodes matches the server, whatever is dropped."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from protocol.delta import DeltaFrameEncoder
from protocol.frames import (
    StateFrameDecoder,
    StateFrameEncoder,
    decode_state_frame,
    quantise_positions,
    quantise_yaw,
)

NEAR = 6.0


def _csr(rows: list[list[int]]) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    flat = [s for r in rows for s in r]
    return ptr, np.asarray(flat, dtype=np.int32)


def _shift(d: float) -> int:
    if d <= NEAR:
        return 0
    if d <= 2 * NEAR:
        return 1
    if d <= 4 * NEAR:
        return 2
    return 3


def _due(tick: int, entity_id: int, shift: int) -> bool:
    return ((tick + (entity_id & 7)) & ((1 << shift) - 1)) == 0


class Receiver:
    """One client: enter positions, then what its frames say (via its decoder)."""

    def __init__(self) -> None:
        self.decoder = StateFrameDecoder()
        self.held: dict[int, tuple[int, int, int]] = {}
        self.shift: dict[int, int] = {}
        self.frames: list[dict[str, object]] = []

    def enter(self, entity: int, q: tuple[int, int, int]) -> None:
        self.held[entity] = q
        self.shift.pop(entity, None)

    def leave(self, entity: int) -> None:
        self.held.pop(entity, None)
        self.shift.pop(entity, None)

    def frame(self, raw: bytes) -> None:
        msg = msgpack.unpackb(raw, raw=False)
        assert msgpack.packb(msg, use_bin_type=True) == raw  # byte-exact msgpack
        self.frames.append(msg)
        f = self.decoder.decode(msg)
        q = quantise_positions(f.positions)
        r = quantise_yaw(f.yaw)
        for n, entity in enumerate(f.ids.tolist()):
            assert entity in self.held  # only entities in view are updated
            self.held[entity] = (int(q[n, 0]), int(q[n, 1]), int(r[n]))
        for entity, s in zip(f.rate_ids.tolist(), f.rate_shifts.tolist(), strict=True):
            self.shift[entity] = s


class World:
    """Server side: slot arrays, visible sets, the encoder; drives receivers."""

    def __init__(self, cap: int, observers: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.cap = cap
        self.ids = (np.arange(cap, dtype=np.uint32) * 7 + 3).astype(np.uint32)
        self.pos = self.rng.uniform(-30, 30, (cap, 2)).astype(np.float32)
        self.yaw = self.rng.uniform(0, 6.3, cap).astype(np.float32)
        self.obs = np.arange(observers, dtype=np.int32)
        self.enc = DeltaFrameEncoder(near_m=NEAR)
        self.rx = [Receiver() for _ in range(observers)]
        self.visible: list[set[int]] = [set() for _ in range(observers)]
        self.tick = 0

    def q(self, slot: int) -> tuple[int, int, int]:
        qp = quantise_positions(self.pos[slot : slot + 1])
        qy = quantise_yaw(self.yaw[slot : slot + 1])
        return int(qp[0, 0]), int(qp[0, 1]), int(qy[0])

    def step(self, rows: list[set[int]], written: list[bool]) -> list[bytes | None]:
        for j, row in enumerate(rows):  # enter/leave messages are reliable
            for s in self.visible[j] - row:
                self.rx[j].leave(int(self.ids[s]))
            for s in row - self.visible[j]:
                self.rx[j].enter(int(self.ids[s]), self.q(s))
            self.visible[j] = set(row)
        ptr, vis = _csr([sorted(r, key=lambda s: (s * 31) % 17) for r in rows])
        frames = self.enc.encode(self.tick, self.ids, self.pos, self.yaw, self.obs, ptr, vis)
        ok = []
        for j, f in enumerate(frames):
            if f is not None and written[j]:
                self.rx[j].frame(f)
                ok.append(True)
            else:
                ok.append(False)
        self.enc.commit(ok)
        self.tick += 1
        return frames

    def check_due(self, j: int) -> None:
        """Every entity due at the last tick is where the server holds it."""
        tick = self.tick - 1
        ox, oz = self.pos[self.obs[j]].tolist()
        for s in self.visible[j]:
            d = float(np.hypot(self.pos[s, 0] - ox, self.pos[s, 1] - oz))
            if _due(tick, int(self.ids[s]), _shift(d)):
                assert self.rx[j].held[int(self.ids[s])] == self.q(s)

    def check_all(self, j: int) -> None:
        for s in self.visible[j]:
            assert self.rx[j].held[int(self.ids[s])] == self.q(s)


moves = st.lists(
    st.tuples(
        st.floats(-3.0, 3.0),  # move size (m): beyond 1.27 m a step is absolute
        st.integers(0, 2**31 - 1),  # seed for this tick
        st.lists(st.booleans(), min_size=3, max_size=3),  # which writes succeed
        st.booleans(),  # whether the views change
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(moves)
def test_receivers_match_the_server_for_due_entities_and_never_drift(
    ticks: list[tuple[float, int, list[bool], bool]],
) -> None:
    w = World(cap=40, observers=3, seed=len(ticks))
    rows = [set(range(3, 25)), set(range(10, 40)), set()]
    for size, seed, written, churn in ticks:
        rng = np.random.default_rng(seed)
        movers = rng.random(w.cap) < 0.5
        w.pos[movers] += rng.normal(0, abs(size) + 1e-3, (int(movers.sum()), 2)).astype(np.float32)
        w.yaw[rng.random(w.cap) < 0.2] += np.float32(0.3)
        if churn:
            rows = [
                {int(s) for s in rng.choice(np.arange(3, w.cap), rng.integers(0, 30), False)}
                for _ in range(3)
            ]
        w.step(rows, written)
        for j, ok in enumerate(written):
            if ok:
                w.check_due(j)
    # a full-rate interval (8 ticks, every frame written, nothing moving): all exact
    for _ in range(8):
        w.step(rows, [True, True, True])
    for j in range(3):
        w.check_all(j)
        for s in w.visible[j]:  # and the receiver knows each entity's rate
            ox, oz = w.pos[w.obs[j]].tolist()
            d = float(np.hypot(w.pos[s, 0] - ox, w.pos[s, 1] - oz))
            assert w.rx[j].shift.get(int(w.ids[s]), 0) == _shift(d)


def _line_world() -> World:
    """Observer 0 at the origin; slot 1 at 3 m (near), slot 2 at 40 m (far),
    slot 3 at 2 m but never moving; all visible to the observer."""
    w = World(cap=4, observers=1, seed=0)
    w.pos[:] = [[0, 0], [3, 0], [40, 0], [0, 2]]
    w.yaw[:] = 0
    return w


def _ids_in(msg: dict[str, object]) -> list[int]:
    raw = msg.get("i", b"")
    assert isinstance(raw, bytes)
    return [int(x) for x in np.frombuffer(raw, dtype="<u4")]


def test_rate_decay_near_every_tick_far_every_eighth_still_never() -> None:
    w = _line_world()
    for _ in range(64):
        w.pos[1, 1] += np.float32(0.02)  # both walk 2 cm a tick
        w.pos[2, 1] += np.float32(0.02)
        w.step([{1, 2, 3}], [True])
    near, far, still = (int(w.ids[s]) for s in (1, 2, 3))
    seen = [_ids_in(m) for m in w.rx[0].frames]
    ticks = [int(m["k"]) for m in w.rx[0].frames]  # type: ignore[call-overload]
    near_ticks = [k for k, ids in zip(ticks, seen, strict=True) if near in ids]
    far_ticks = [k for k, ids in zip(ticks, seen, strict=True) if far in ids]
    assert near_ticks == list(range(1, 64))  # entered at tick 0 at its enter position
    assert len(far_ticks) == 8
    assert all((k + (far & 7)) % 8 == 0 for k in far_ticks)
    assert not any(still in ids for ids in seen)
    assert w.rx[0].shift == {far: 3}
    w.check_all(0)


def test_a_still_crowd_costs_heartbeats_only() -> None:
    w = World(cap=65, observers=1, seed=3)
    rows = [set(range(1, 65))]
    sizes = [f for f in (w.step(rows, [True]) for _ in range(60))]
    sent = [len(f[0]) for f in sizes if f[0] is not None]
    # the first tick announces rates (and is the observer's first frame); then one
    # heartbeat {"t": "f", "k": tick} a second
    assert len(sent) == 3
    assert all(n <= 10 for n in sent[1:])
    assert all(set(m) == {"t", "k"} for m in w.rx[0].frames[1:])


def test_small_moves_are_int8_deltas_and_big_ones_absolute() -> None:
    w = _line_world()
    w.step([{1}], [True])
    w.pos[1, 0] += np.float32(0.5)  # first change after enter: absolute (no frame base)
    w.step([{1}], [True])
    assert "p" in w.rx[0].frames[-1] and "d" not in w.rx[0].frames[-1]
    w.pos[1, 0] += np.float32(1.0)
    w.step([{1}], [True])
    last = w.rx[0].frames[-1]
    assert "d" in last and "p" not in last and last["d"] == b"\x64\x00"
    w.pos[1, 0] -= np.float32(1.5)  # 150 cm: does not fit int8
    w.step([{1}], [True])
    assert "p" in w.rx[0].frames[-1]
    w.check_all(0)


def test_a_skipped_frame_is_carried_by_the_next() -> None:
    w = _line_world()
    w.step([{1}], [True])
    w.pos[1, 0] += np.float32(0.3)
    w.step([{1}], [True])
    w.pos[1, 0] += np.float32(0.3)
    frames = w.step([{1}], [False])  # skipped: the client never saw it
    assert frames[0] is not None
    w.pos[1, 0] += np.float32(0.3)
    w.step([{1}], [True])
    assert w.rx[0].frames[-1]["d"] == b"\x3c\x00"  # 60 cm since the last written frame
    w.check_all(0)


def test_full_rate_flag_keeps_the_speaker_every_tick() -> None:
    w = _line_world()
    full = np.array([False, False, True, False])
    ptr, vis = _csr([[2]])
    seen = 0
    for tick in range(16):
        w.pos[2, 1] += np.float32(0.02)
        frames = w.enc.encode(tick, w.ids, w.pos, w.yaw, w.obs, ptr, vis, full_rate=full)
        w.enc.commit([True])
        f = frames[0]
        if f is not None and int(w.ids[2]) in _ids_in(msgpack.unpackb(f, raw=False)):
            seen += 1
    assert seen == 15


def test_full_encoding_frames_decode_with_the_v4_decoder() -> None:
    ids = np.array([5, 6], dtype=np.uint32)
    pos = np.array([[1.0, 2.0], [-3.0, 4.5]], dtype=np.float32)
    yaw = np.zeros(2, dtype=np.float32)
    ptr, vis = _csr([[0, 1]])
    raw = StateFrameEncoder().encode(7, ids, pos, yaw, ptr, vis)[0]
    msg = msgpack.unpackb(raw, raw=False)
    a = StateFrameDecoder().decode(msg)
    b = decode_state_frame(msg)
    assert a.ids.tolist() == b.ids.tolist() == [5, 6]
    assert np.array_equal(a.positions, b.positions)


def test_decoder_refuses_a_delta_without_a_base_and_bad_bins() -> None:
    dec = StateFrameDecoder()
    with pytest.raises(ValueError, match="without a position"):
        dec.decode({"t": "f", "k": 1, "i": b"\x01\x00\x00\x00", "d": b"\x01\x01", "r": b"\0\0"})
    with pytest.raises(ValueError, match="disagree"):
        dec.decode({"t": "f", "k": 1, "i": b"\x01\x00\x00\x00", "d": b"\x01", "r": b"\0\0"})
    with pytest.raises(ValueError, match="rate"):
        dec.decode({"t": "f", "k": 1, "ri": b"\x01\x00\x00\x00", "rs": b""})
    with pytest.raises(ValueError, match="delta frame"):
        decode_state_frame({"t": "f", "k": 1, "i": b"\x01\0\0\0", "d": b"\x01\x01", "r": b"\0\0"})
    assert len(dec) == 0


def test_encode_needs_a_commit_between_ticks() -> None:
    w = _line_world()
    ptr, vis = _csr([[1]])
    w.enc.encode(0, w.ids, w.pos, w.yaw, w.obs, ptr, vis)
    with pytest.raises(ValueError, match="commit"):
        w.enc.encode(1, w.ids, w.pos, w.yaw, w.obs, ptr, vis)
