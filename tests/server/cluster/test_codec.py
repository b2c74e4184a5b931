"""The bus codec round-trips every message, and refuses what is not one (hypothesis)."""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.cluster import codec
from server.cluster.codec import (
    Beat,
    BlockChange,
    BusDecodeError,
    Forward,
    HttpAnswer,
    HttpCall,
    Kick,
    Place,
    RegionBatch,
    Relay,
    RightsAnswer,
    RightsCall,
    SnapshotRequest,
    Stage,
    Staged,
)

origins = st.text(alphabet="0123456789abcdef", min_size=1, max_size=12)
ticks = st.integers(min_value=0, max_value=2**40)
coords = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, width=32)
identities = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=1, max_value=2**32 - 1),
        "name": st.text(min_size=1, max_size=20),
        "role": st.sampled_from(["citizen", "staff", "host"]),
        "color": st.integers(min_value=0, max_value=0xFFFFFF),
        "avatar": st.sampled_from(["round", "tall"]),
        "subject": st.text(max_size=20),
        "verified": st.booleans(),
    }
)


staged = st.builds(
    Staged,
    st.integers(0, codec.LAYER_MAX),
    st.booleans(),
    st.booleans(),
    st.text(max_size=codec.CHANNEL_MAX),
)
ROLES = ("citizen", "staff", "host", "admin")


@st.composite
def batches(draw: st.DrawFn) -> RegionBatch:
    n = draw(st.integers(min_value=0, max_value=40))
    ids = draw(st.lists(st.integers(0, 2**32 - 1), min_size=n, max_size=n, unique=True))
    xs = draw(st.lists(st.tuples(coords, coords, coords), min_size=n, max_size=n))
    return RegionBatch(
        origin=draw(origins),
        tick=draw(ticks),
        sent_at=draw(st.floats(min_value=0, max_value=2e9, allow_nan=False)),
        region=(draw(st.integers(-(2**31), 2**31 - 1)), draw(st.integers(-(2**31), 2**31 - 1))),
        snapshot=draw(st.booleans()),
        ids=np.array(ids, dtype=np.uint32),
        positions=np.array([(x, z) for x, z, _ in xs], dtype=np.float32).reshape(n, 2),
        yaw=np.array([y for _, _, y in xs], dtype=np.float32),
        identities=tuple(draw(st.lists(identities, max_size=5))),
    )


@given(batches())
def test_region_batches_round_trip(batch: RegionBatch) -> None:
    back = codec.decode(codec.encode(batch))
    assert isinstance(back, RegionBatch)
    assert (back.origin, back.tick, back.sent_at, back.region, back.snapshot) == (
        batch.origin,
        batch.tick,
        batch.sent_at,
        batch.region,
        batch.snapshot,
    )
    assert np.array_equal(back.ids, batch.ids)
    assert np.array_equal(back.positions, batch.positions)
    assert np.array_equal(back.yaw, batch.yaw)
    assert back.identities == batch.identities


@given(
    st.one_of(
        st.builds(Beat, origins, ticks, st.floats(0, 2e9)),
        st.builds(
            Relay,
            origins,
            st.lists(st.integers(0, 2**32 - 1), max_size=50).map(tuple),
            st.binary(max_size=200),
        ),
        st.builds(Kick, origins, st.integers(0, 2**32 - 1), st.text(max_size=50)),
        st.builds(SnapshotRequest, origins),
        st.builds(
            Forward,
            origins,
            st.sampled_from(["desks", "voice"]),
            st.sampled_from(codec.HOOKS),
            identities,
            st.binary(max_size=200),
            st.booleans(),
            st.none() | st.tuples(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4)),
            st.sampled_from(["", "lobby", "desks"]),
        ),
        st.builds(
            RightsCall,
            origins,
            st.integers(0, 2**40),
            st.sampled_from(["desks", "feedback"]),
            st.sampled_from(codec.RIGHTS_OPS),
            st.text(max_size=60),
        ),
        st.builds(
            RightsAnswer,
            origins,
            st.integers(0, 2**40),
            st.dictionaries(
                st.text(max_size=10), st.integers(-(2**31), 2**31) | st.text(max_size=20)
            ),
            st.text(max_size=30),
        ),
        st.builds(
            Place,
            origins,
            st.integers(0, 2**32 - 1),
            st.floats(-1e4, 1e4),
            st.floats(-1e4, 1e4),
            st.floats(-4, 4),
        ),
        st.builds(
            HttpCall,
            origins,
            st.integers(0, 2**40),
            st.sampled_from(["events", "desks"]),
            st.sampled_from(["schedule", "slide"]),
            st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=4),
            st.tuples(st.text(max_size=20), st.text(max_size=20), st.sampled_from(ROLES)),
        ),
        st.builds(
            HttpAnswer,
            origins,
            st.integers(0, 2**40),
            st.just(0) | st.integers(100, 599),
            st.binary(max_size=300),
            st.sampled_from(["application/json", "image/webp"]),
            st.text(max_size=20),
            st.text(max_size=20),
        ),
        st.builds(
            Stage,
            origins,
            st.booleans(),
            st.lists(st.tuples(st.integers(0, 2**32 - 1), staged), max_size=20).map(tuple),
            st.lists(
                st.tuples(st.text(min_size=1, max_size=20), st.binary(max_size=300)), max_size=4
            ).map(tuple),
        ),
        st.builds(BlockChange, origins, st.text(max_size=30), st.text(max_size=30), st.booleans()),
    )
)
def test_beats_relays_and_kicks_round_trip(msg: Any) -> None:
    assert codec.decode(codec.encode(msg)) == msg


@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_refused_with_a_bus_decode_error(data: bytes) -> None:
    try:
        msg = codec.decode(data)
    except BusDecodeError as exc:
        assert str(exc)  # a reason, never another exception type
    else:
        assert isinstance(msg, codec.BusMessage)


def test_truncated_arrays_and_other_versions_are_refused() -> None:
    batch = RegionBatch(
        "abc",
        1,
        0.0,
        (0, 0),
        ids=np.array([1, 2], dtype=np.uint32),
        positions=np.zeros((2, 2), dtype=np.float32),
        yaw=np.zeros(2, dtype=np.float32),
    )
    import msgpack

    body = msgpack.unpackb(codec.encode(batch))
    body[9] = body[9][:-4]
    with pytest.raises(BusDecodeError, match="wrong length"):
        codec.decode(msgpack.packb(body))
    body = msgpack.unpackb(codec.encode(batch))
    body[0] = 99
    with pytest.raises(BusDecodeError, match="version"):
        codec.decode(msgpack.packb(body))
    with pytest.raises(ValueError, match="same avatars"):
        codec.encode(RegionBatch("abc", 1, 0.0, (0, 0), ids=np.array([1], dtype=np.uint32)))


GOOD = {"id": 7, "name": "Bo", "role": "citizen", "color": 0x336699, "avatar": "round"}


@pytest.mark.parametrize(
    "bad",
    [
        {**GOOD, "name": ""},
        {**GOOD, "name": "x" * 33},
        {**GOOD, "role": "emperor"},
        {**GOOD, "avatar": ""},
        {**GOOD, "color": 0x1000000},
        {**GOOD, "id": -1},
        {**GOOD, "verified": "yes"},
        {**GOOD, "ip": "192.0.2.1"},
        {k: v for k, v in GOOD.items() if k != "name"},
    ],
)
def test_a_batch_whose_identity_clients_would_refuse_is_refused_on_the_bus(
    bad: dict[str, object],
) -> None:
    def batch(ident: dict[str, object]) -> bytes:
        return codec.encode(
            RegionBatch(
                origin="a1",
                tick=1,
                sent_at=1.0,
                region=(0, 0),
                snapshot=True,
                ids=np.array([7], dtype=np.uint32),
                positions=np.zeros((1, 2), dtype=np.float32),
                yaw=np.zeros(1, dtype=np.float32),
                identities=(ident,),
            )
        )

    assert isinstance(codec.decode(batch(GOOD)), RegionBatch)
    raw = msgpack.unpackb(batch(GOOD), raw=False)
    raw[11] = [bad]
    with pytest.raises(BusDecodeError, match="bad identities"):
        codec.decode(msgpack.packb(raw))


@given(st.lists(identities, max_size=20))
def test_a_snapshot_beat_carries_the_directory(people: list[dict[str, Any]]) -> None:
    beat = Beat("a1", 40, 1.5, tuple(people))
    back = codec.decode(codec.encode(beat))
    assert back == beat
    plain = codec.decode(codec.encode(Beat("a1", 41, 1.6)))
    assert isinstance(plain, Beat) and plain.people is None


def test_a_beat_with_a_bad_directory_is_refused() -> None:
    raw = msgpack.unpackb(codec.encode(Beat("a1", 40, 1.5, (GOOD,))), raw=False)
    raw[5] = [{**GOOD, "role": "emperor"}]
    with pytest.raises(BusDecodeError, match="bad people"):
        codec.decode(msgpack.packb(raw))


def test_a_forward_with_an_unknown_hook_or_a_bad_identity_is_refused() -> None:
    person = {"id": 7, "name": "Ada", "role": "citizen"}
    good = codec.encode(Forward("a1", "desks", "message", person, b"\x80"))
    assert codec.decode(good) == Forward("a1", "desks", "message", person, b"\x80")
    body = msgpack.unpackb(good)
    for i, bad in ((4, "drop_tables"), (5, {"id": -1, "name": "Ada"}), (6, "text")):
        wrong = list(body)
        wrong[i] = bad
        with pytest.raises(BusDecodeError, match="bad forward"):
            codec.decode(msgpack.packb(wrong))


def test_a_stage_out_of_bounds_is_refused() -> None:
    def stage(staged: list[Any], riders: list[Any]) -> bytes:
        return bytes(msgpack.packb([codec.VERSION, "g", "o1", False, staged, riders]))

    assert codec.decode(stage([[7, 2, True, False, "ev:1"]], [["ev:1", b"x"]])) == Stage(
        "o1", False, ((7, Staged(2, True, False, "ev:1")),), (("ev:1", b"x"),)
    )
    for bad in (
        stage([[7, codec.LAYER_MAX + 1, True, False, ""]], []),  # beyond int16
        stage([[-1, 0, True, False, ""]], []),
        stage([[7, 0, 1, False, ""]], []),  # not a bool
        stage([[7, 0, True, False, "c" * (codec.CHANNEL_MAX + 1)]], []),
        stage([], [["", b"x"]]),  # no channel
        stage([], [["ev:1", b"x" * (codec.RIDER_MAX + 1)]]),
        stage([], [["ev:1", "text"]]),
    ):
        with pytest.raises(BusDecodeError):
            codec.decode(bad)
