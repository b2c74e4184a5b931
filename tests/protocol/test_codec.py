"""The codec: round trips, validation, and nothing but ProtocolError on any bytes."""

from __future__ import annotations

import math
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.catalogue import (
    ALL_ERROR_CODES,
    CLIENT_MESSAGES,
    SERVER_MESSAGES,
    Field,
    MessageSpec,
)
from protocol.codec import decode_client, decode_server, encode, format_limit, validate
from protocol.errors import ProtocolError


def value_for(f: Field) -> st.SearchStrategy[Any]:
    if f.kind == "str":
        return st.text(min_size=f.min_len or 0, max_size=min(f.max_len or 40, 40))
    if f.kind == "enum":
        return st.sampled_from(f.values or ())
    if f.kind == "int":
        return st.integers(int(f.min if f.min is not None else -(2**31)), int(f.max or 2**31))
    if f.kind == "float":
        lo = f.min if f.min is not None else -1e6
        hi = f.max if f.max is not None else 1e6
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if f.kind == "bool":
        return st.booleans()
    if f.kind == "bin":
        return st.binary(min_size=f.min_len or 0, max_size=64)
    if f.kind == "list":
        lo = f.min_len or 0
        # A list without an item spec takes any values (event_audio's [id, seq, ts, bin]).
        items = value_for(f.items) if f.items is not None else st.integers(0, 2**32)
        return st.lists(items, min_size=lo, max_size=max(lo, min(f.max_len or 3, 3)))
    assert f.kind == "map"
    if f.fields is None:
        return st.dictionaries(st.text(max_size=8), st.integers(-(2**63), 2**64 - 1), max_size=3)
    return message_body(f.fields)


def message_body(fields: dict[str, Field]) -> st.SearchStrategy[dict[str, Any]]:
    required = {k: value_for(f) for k, f in fields.items() if f.required}
    optional = {k: value_for(f) for k, f in fields.items() if not f.required}
    return st.fixed_dictionaries(required, optional=optional)


def message(spec: MessageSpec) -> st.SearchStrategy[dict[str, Any]]:
    return message_body(spec.fields).map(lambda body: {"t": spec.type, **body})


client_messages = st.sampled_from(list(CLIENT_MESSAGES.values())).flatmap(message)
server_messages = st.sampled_from(list(SERVER_MESSAGES.values())).flatmap(message)


@given(client_messages)
def test_client_messages_round_trip(msg: dict[str, Any]) -> None:
    assert decode_client(encode(msg)) == msg


@given(server_messages)
def test_server_messages_round_trip(msg: dict[str, Any]) -> None:
    assert decode_server(encode(msg)) == msg


@given(st.binary(max_size=512))
def test_decoder_raises_only_its_own_error_on_arbitrary_bytes(data: bytes) -> None:
    try:
        decode_client(data)
    except ProtocolError as exc:
        assert exc.code in ALL_ERROR_CODES
        assert exc.reason


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**64 - 1)
        | st.floats()
        | st.text(max_size=20)
        | st.binary(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=5), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_decoder_raises_only_its_own_error_on_arbitrary_msgpack(obj: Any) -> None:
    for candidate in (obj, {"t": "move", "x": obj}, {"t": "chat", "scope": obj, "text": obj}):
        try:
            decode_client(msgpack.packb(candidate, use_bin_type=True))
        except ProtocolError as exc:
            assert exc.code in ALL_ERROR_CODES


@pytest.mark.parametrize(
    ("msg", "code"),
    [
        ({"t": "move", "seq": 1, "x": math.nan, "z": 0, "yaw": 0}, "not_finite"),
        ({"t": "move", "seq": 1, "x": 1e9, "z": 0, "yaw": 0}, "out_of_range"),
        ({"t": "join", "name": ""}, "too_short"),
        ({"t": "chat", "scope": "near", "text": ""}, "too_short"),
        ({"t": "rtc_offer", "sdp": ""}, "too_short"),
        ({"t": "join", "name": "x" * 33}, "too_long"),
        ({"t": "join", "name": "Ada", "avatar": "dragon"}, "bad_field"),
        ({"t": "join", "name": "Ada", "color": 0x1000000}, "out_of_range"),
        ({"t": "hello"}, "missing_field"),
    ],
)
def test_validation_codes(msg: dict[str, Any], code: str) -> None:
    with pytest.raises(ProtocolError) as err:
        decode_client(encode(msg))
    assert err.value.code == code
    assert err.value.ref == msg["t"]


def test_integers_are_accepted_for_float_fields() -> None:
    # Browsers' msgpack encoders send 2.0 as the integer 2.
    assert decode_client(encode({"t": "move", "seq": 1, "x": 2, "z": -3, "yaw": 0}))["x"] == 2


def test_validate_refuses_server_types_from_clients() -> None:
    with pytest.raises(ProtocolError) as err:
        validate({"t": "welcome"}, CLIENT_MESSAGES)
    assert err.value.code == "unknown_type"


def refusal(msg: dict[str, Any]) -> ProtocolError:
    with pytest.raises(ProtocolError) as err:
        decode_client(encode(msg))
    return err.value


def test_unknown_type_names_the_type_in_ref() -> None:
    assert refusal({"t": "nope"}).ref == "nope"
    long = refusal({"t": "x" * 40 + "é"})
    assert long.code == "unknown_type"
    assert long.ref == "x" * 32
    with pytest.raises(ProtocolError) as err:
        decode_server(encode({"t": "hello", "v": 1}))
    assert (err.value.code, err.value.ref) == ("unknown_type", "hello")


def test_out_of_range_prints_integral_limits_as_integers() -> None:
    err = refusal({"t": "move", "seq": 2**32, "x": 0, "z": 0, "yaw": 0})
    assert err.code == "out_of_range"
    assert err.reason == "'seq' must be between 0 and 4294967295."
    err = refusal({"t": "move", "seq": 1, "x": 1e9, "z": 0, "yaw": 0})
    assert err.reason == "'x' must be between -10000 and 10000."
    with pytest.raises(ProtocolError) as bad:
        decode_server(
            encode(
                {"t": "announce", "id": 1, "name": "A", "role": "staff", "text": "hi", "ts": 2e11}
            )
        )
    assert bad.value.reason == "'ts' must be between 0 and 100000000000."


@pytest.mark.parametrize(
    ("limit", "text"),
    [
        (0, "0"),
        (2**32 - 1, "4294967295"),
        (1e11, "100000000000"),
        (-10000.0, "-10000"),
        (-0.0, "0"),
        (0.5, "0.5"),
        (1.25e-7, "1.25e-07"),
        (3.14159265, "3.14159"),
    ],
)
def test_format_limit(limit: float, text: str) -> None:
    assert format_limit(limit) == text


def test_out_of_range_with_one_sided_limits() -> None:
    low = MessageSpec("m", "c2s", {"a": Field("int", min=5)}, "")
    high = MessageSpec("m", "c2s", {"a": Field("float", max=2.5)}, "")
    with pytest.raises(ProtocolError) as err:
        validate({"t": "m", "a": 4}, {"m": low})
    assert err.value.reason == "'a' must be at least 5."
    with pytest.raises(ProtocolError) as err:
        validate({"t": "m", "a": 3}, {"m": high})
    assert err.value.reason == "'a' must be at most 2.5."


@pytest.mark.parametrize(
    ("value", "kind"),
    [("", "str"), (b"", "bin"), ([], "list")],
)
def test_shorter_than_min_len_is_too_short(value: Any, kind: Any) -> None:
    spec = MessageSpec("m", "c2s", {"a": Field(kind, min_len=1, max_len=4)}, "")
    with pytest.raises(ProtocolError) as err:
        validate({"t": "m", "a": value}, {"m": spec})
    assert err.value.code == "too_short"
    assert err.value.ref == "m"
    assert "needs at least 1" in err.value.reason
