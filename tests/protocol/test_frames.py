"""State frames: byte-exact msgpack, quantisation bounds, round trips, empty frames."""

from __future__ import annotations

import math

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from protocol.frames import (
    POSITION_SCALE,
    DecodedFrame,
    StateFrameEncoder,
    decode_state_frame,
    quantise_positions,
    quantise_yaw,
)


def _expected(tick: int, ids: np.ndarray, pos: np.ndarray, yaw: np.ndarray) -> bytes:
    return msgpack.packb(
        {
            "t": "f",
            "k": tick,
            "i": ids.astype("<u4").tobytes(),
            "p": quantise_positions(pos).tobytes(),
            "r": quantise_yaw(yaw).tobytes(),
        },
        use_bin_type=True,
    )


def _world(rng: np.random.Generator, cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ids = rng.integers(0, 2**32, cap, dtype=np.uint64).astype(np.uint32)
    pos = (rng.random((cap, 2)) * 640 - 320).astype(np.float32)
    yaw = (rng.random(cap) * 40 - 20).astype(np.float32)
    return ids, pos, yaw


def _csr(counts: list[int]) -> np.ndarray:
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(counts)
    return ptr


@pytest.mark.parametrize("tick", [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**40])
def test_frames_are_byte_identical_to_msgpack(tick: int) -> None:
    rng = np.random.default_rng(tick % 1000)
    ids, pos, yaw = _world(rng, 500)
    counts = [0, 1, 63, 64, 65, 64, 7, 0, 300, 64]
    ptr = _csr(counts)
    vis = rng.integers(0, 500, int(ptr[-1])).astype(np.int32)
    frames = StateFrameEncoder().encode(tick, ids, pos, yaw, ptr, vis)
    assert len(frames) == len(counts)
    for row, frame in enumerate(frames):
        sl = vis[ptr[row] : ptr[row + 1]]
        assert frame == _expected(tick, ids[sl], pos[sl], yaw[sl])


def test_round_trip_through_msgpack() -> None:
    rng = np.random.default_rng(3)
    ids, pos, yaw = _world(rng, 2000)
    ptr = _csr([64] * 50 + [3] * 10)
    vis = rng.integers(0, 2000, int(ptr[-1])).astype(np.int32)
    enc = StateFrameEncoder()
    for row, frame in enumerate(enc.encode(42, ids, pos, yaw, ptr, vis)):
        msg = msgpack.unpackb(frame, raw=False)
        assert set(msg) == {"t", "k", "i", "p", "r"}
        assert msg["t"] == "f" and msg["k"] == 42
        dec = decode_state_frame(msg)
        sl = vis[ptr[row] : ptr[row + 1]]
        assert dec.tick == 42
        np.testing.assert_array_equal(dec.ids, ids[sl])
        assert np.abs(dec.positions - pos[sl]).max() <= 0.5 / POSITION_SCALE + 1e-4
        err = np.abs((dec.yaw - yaw[sl] + math.pi) % (2 * math.pi) - math.pi)
        assert err.max() <= math.pi / 65536 + 1e-5
        assert dec.positions.dtype == np.float32 and dec.yaw.dtype == np.float32


def test_empty_rows_still_get_frames() -> None:
    rng = np.random.default_rng(1)
    ids, pos, yaw = _world(rng, 10)
    ptr = _csr([0, 0, 0])
    frames = StateFrameEncoder().encode(9, ids, pos, yaw, ptr, np.empty(0, np.int32))
    assert len(frames) == 3
    for frame in frames:
        assert msgpack.unpackb(frame, raw=False) == {"t": "f", "k": 9, "i": b"", "p": b"", "r": b""}
        dec = decode_state_frame(msgpack.unpackb(frame, raw=False))
        assert dec.ids.size == 0 and dec.positions.shape == (0, 2) and dec.yaw.size == 0


def test_no_observers_no_frames() -> None:
    ids, pos, yaw = _world(np.random.default_rng(0), 4)
    assert StateFrameEncoder().encode(1, ids, pos, yaw, _csr([]), np.empty(0, np.int32)) == []


def test_quantise_positions_bounds_and_precision() -> None:
    xz = np.array(
        [
            [0.0, -0.0],
            [0.004, -0.004],
            [0.006, -0.006],
            [327.67, -327.68],
            [400.0, -400.0],
            [1.234, 5.678],
            [np.inf, -np.inf],
            [np.nan, 1.0],
        ],
        dtype=np.float32,
    )
    q = quantise_positions(xz)
    assert q.dtype == np.dtype("<i2")
    np.testing.assert_array_equal(
        q,
        [
            [0, 0],
            [0, 0],
            [1, -1],
            [32767, -32768],
            [32767, -32768],
            [123, 568],
            [32767, -32768],
            [0, 100],
        ],
    )


def test_quantise_yaw_wraps() -> None:
    yaw = np.array(
        [0.0, math.pi, -math.pi / 2, 2 * math.pi, 2 * math.pi - 1e-6, 100.0, np.nan],
        dtype=np.float32,
    )
    q = quantise_yaw(yaw)
    assert q.dtype == np.dtype("<u2")
    assert q[0] == 0 and q[1] == 32768 and q[2] == 49152 and q[3] == 0 and q[4] == 0
    assert q[5] == round(100.0 / (2 * math.pi) * 65536) % 65536
    assert q[6] == 0


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        st.tuples(st.integers(0, 40), st.just(2)),
        elements=st.floats(-400, 400, width=32, allow_nan=False),
    ),
)
def test_position_quantisation_error_is_half_a_centimetre(xz: np.ndarray) -> None:
    q = quantise_positions(xz).astype(np.float64) / POSITION_SCALE
    inside = np.abs(xz.astype(np.float64)) <= 327.67
    err = np.abs(q - xz.astype(np.float64))
    assert (err[inside] <= 0.005 + 1e-6).all()
    assert (np.abs(q) <= 327.68).all()


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, st.integers(0, 40), elements=st.floats(-1e4, 1e4, width=32)))
def test_yaw_quantisation_error(yaw: np.ndarray) -> None:
    back = quantise_yaw(yaw).astype(np.float64) * 2 * math.pi / 65536
    diff = np.abs((back - yaw.astype(np.float64) + math.pi) % (2 * math.pi) - math.pi)
    assert (diff <= math.pi / 65536 + 1e-9 * (1 + np.abs(yaw))).all()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_encode_matches_msgpack_for_random_csr(data: st.DataObject) -> None:
    cap = data.draw(st.integers(1, 50))
    counts = data.draw(st.lists(st.integers(0, 70), max_size=12))
    tick = data.draw(st.integers(0, 2**64 - 1))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    ids, pos, yaw = _world(rng, cap)
    ptr = _csr(counts)
    vis = rng.integers(0, cap, int(ptr[-1])).astype(np.int32)
    frames = StateFrameEncoder().encode(tick, ids, pos, yaw, ptr, vis)
    for row, frame in enumerate(frames):
        sl = vis[ptr[row] : ptr[row + 1]]
        assert frame == _expected(tick, ids[sl], pos[sl], yaw[sl])


def test_encode_rejects_bad_input() -> None:
    ids, pos, yaw = _world(np.random.default_rng(0), 4)
    with pytest.raises(ValueError):
        StateFrameEncoder().encode(-1, ids, pos, yaw, _csr([1]), np.zeros(1, np.int32))
    with pytest.raises(ValueError):
        StateFrameEncoder().encode(1, ids, pos, yaw, np.array([0, 2]), np.zeros(1, np.int32))
    with pytest.raises(ValueError):
        StateFrameEncoder().encode(1, ids, pos, yaw, np.array([0, 1, 0, 1]), np.zeros(1, np.int32))


@pytest.mark.parametrize(
    "msg",
    [
        {"t": "x", "k": 1, "i": b"", "p": b"", "r": b""},
        {"t": "f", "k": -1, "i": b"", "p": b"", "r": b""},
        {"t": "f", "k": True, "i": b"", "p": b"", "r": b""},
        {"t": "f", "k": 1, "i": b"\0\0\0", "p": b"", "r": b""},
        {"t": "f", "k": 1, "i": b"\0\0\0\0", "p": b"\0\0\0", "r": b"\0\0"},
        {"t": "f", "k": 1, "i": b"\0\0\0\0", "p": b"\0\0\0\0", "r": b"\0"},
        {"t": "f", "k": 1, "i": "text", "p": b"", "r": b""},
        {"t": "f", "k": 1, "p": b"\0\0\0\0", "r": b"\0\0"},  # v4: a missing bin is empty
        {"t": "f", "k": 1, "i": b"\0\0\0\0", "d": b"\0", "r": b"\0\0"},
        {"t": "f", "k": 1, "ri": b"\0\0\0\0"},
        {"t": "f", "k": 1, "ri": b"\0\0\0\0", "rs": b"\x09"},
    ],
)
def test_decode_rejects_bad_frames(msg: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        decode_state_frame(msg)


def test_decoded_frame_is_a_value() -> None:
    frame = StateFrameEncoder().encode(
        5,
        np.array([7], np.uint32),
        np.array([[1.0, 2.0]], np.float32),
        np.array([0.5], np.float32),
        _csr([1]),
        np.array([0], np.int32),
    )[0]
    dec = decode_state_frame(msgpack.unpackb(frame, raw=False))
    assert isinstance(dec, DecodedFrame)
    assert dec.ids.tolist() == [7] and dec.positions.tolist() == [[1.0, 2.0]]
