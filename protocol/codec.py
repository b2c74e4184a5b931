"""msgpack codec with validation against the catalogue.

``decode_client`` is the edge: it turns untrusted bytes into a validated
message (a plain ``dict``) or raises `ProtocolError` — and nothing else, for
any input. ``encode`` turns a message into bytes; the server's own messages
are trusted and not re-validated on the hot path (``validate`` exists for
tests and for the agents).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgpack

from protocol.catalogue import (
    CLIENT_MESSAGES,
    MAX_MESSAGE_BYTES,
    SERVER_MESSAGES,
    Field,
    MessageSpec,
)
from protocol.errors import ErrorCode, ProtocolError

Message = dict[str, Any]

_MAX_DEPTH = 4


def encode(msg: Mapping[str, Any]) -> bytes:
    """Pack one message. Floats go out as float32 only when exact, else float64."""
    return msgpack.packb(msg, use_bin_type=True)


def _unpack(data: bytes) -> Any:
    try:
        return msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            use_list=True,
            max_str_len=MAX_MESSAGE_BYTES,
            max_bin_len=MAX_MESSAGE_BYTES,
            max_array_len=4096,
            max_map_len=64,
            max_ext_len=0,
        )
    except Exception as exc:  # msgpack raises many types; all mean "not msgpack"
        raise ProtocolError(
            ErrorCode.BAD_MSGPACK, f"The message is not valid MessagePack ({type(exc).__name__})."
        ) from None


def _check(value: Any, f: Field, path: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ProtocolError(ErrorCode.BAD_FIELD, f"'{path}' is nested too deeply.")
    kind = f.kind
    if kind == "str" or kind == "enum":
        if not isinstance(value, str):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{path}' must be a string.")
        if kind == "enum":
            if f.values is not None and value not in f.values:
                allowed = ", ".join(f.values)
                raise ProtocolError(ErrorCode.BAD_FIELD, f"'{path}' must be one of: {allowed}.")
            return
        _check_len(len(value), f, path, "characters")
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{path}' must be an integer.")
        _check_range(value, f, path)
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{path}' must be a number.")
        if isinstance(value, float) and not math.isfinite(value):
            raise ProtocolError(ErrorCode.NOT_FINITE, f"'{path}' must be a finite number.")
        _check_range(value, f, path)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{path}' must be true or false.")
    elif kind == "bin":
        if not isinstance(value, bytes):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{path}' must be binary.")
        _check_len(len(value), f, path, "bytes")
    elif kind == "list":
        if not isinstance(value, list):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{path}' must be a list.")
        _check_len(len(value), f, path, "items")
        if f.items is not None:
            for i, item in enumerate(value):
                _check(item, f.items, f"{path}[{i}]", depth + 1)
    elif kind == "map":
        if not isinstance(value, dict):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"'{path}' must be a map.")
        if f.fields is not None:
            _check_fields(value, f.fields, path + ".", depth + 1)


def _check_len(n: int, f: Field, path: str, unit: str) -> None:
    if f.max_len is not None and n > f.max_len:
        raise ProtocolError(ErrorCode.TOO_LONG, f"'{path}' is longer than {f.max_len} {unit}.")
    if f.min_len is not None and n < f.min_len:
        raise ProtocolError(ErrorCode.TOO_SHORT, f"'{path}' needs at least {f.min_len} {unit}.")


def format_limit(x: float) -> str:
    """A limit as people write it: integral values as integers ("4294967295"), others ``{:g}``.

    The JavaScript twin (``fmt`` in ``codec.js``) prints the same text.
    """
    if isinstance(x, int):
        return str(x)
    if math.isfinite(x) and x.is_integer():
        return str(int(x))
    return f"{x:g}"


def _check_range(v: float, f: Field, path: str) -> None:
    lo, hi = f.min, f.max
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        if lo is not None and hi is not None:
            bound = f"between {format_limit(lo)} and {format_limit(hi)}"
        elif lo is not None:
            bound = f"at least {format_limit(lo)}"
        else:
            assert hi is not None
            bound = f"at most {format_limit(hi)}"
        raise ProtocolError(ErrorCode.OUT_OF_RANGE, f"'{path}' must be {bound}.")


def _check_fields(obj: dict[Any, Any], fields: dict[str, Field], prefix: str, depth: int) -> None:
    for key in obj:
        if key not in fields:
            raise ProtocolError(ErrorCode.UNKNOWN_FIELD, f"Unknown field '{prefix}{key}'.")
    for name, f in fields.items():
        if name in obj:
            _check(obj[name], f, prefix + name, depth)
        elif f.required:
            raise ProtocolError(ErrorCode.MISSING_FIELD, f"Field '{prefix}{name}' is missing.")


def validate(obj: Any, catalogue: Mapping[str, MessageSpec]) -> Message:
    """Check an unpacked object against ``catalogue``; return it as a message.

    Raises `ProtocolError` with a core code and a readable reason on any
    problem; its ``ref`` is the message type (at most 32 characters) once
    the type is known, i.e. for ``unknown_type`` and every field error.
    """
    if not isinstance(obj, dict):
        raise ProtocolError(ErrorCode.NOT_A_MESSAGE, "A message must be a map with a field 't'.")
    t = obj.get("t")
    if not isinstance(t, str):
        raise ProtocolError(ErrorCode.NOT_A_MESSAGE, "A message needs a string field 't'.")
    spec = catalogue.get(t)
    if spec is None:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"Unknown message type '{t[:32]}'.", t[:32])
    fields = {k: v for k, v in obj.items() if k != "t"}
    try:
        _check_fields(fields, spec.fields, "", 0)
    except ProtocolError as exc:
        exc.ref = t
        raise
    return obj


def decode_client(data: bytes | str) -> Message:
    """Decode and validate one message from a client (the server's edge)."""
    if isinstance(data, str):
        raise ProtocolError(ErrorCode.NOT_A_MESSAGE, "Messages must be binary MessagePack frames.")
    if len(data) > MAX_MESSAGE_BYTES:
        raise ProtocolError(ErrorCode.TOO_LONG, f"Messages are limited to {MAX_MESSAGE_BYTES} B.")
    return validate(_unpack(data), CLIENT_MESSAGES)


def decode_server(data: bytes) -> Message:
    """Decode and validate one message from the server (used by agents and tests)."""
    try:
        obj = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:
        raise ProtocolError(ErrorCode.BAD_MSGPACK, f"Bad server message ({exc}).") from None
    return validate(obj, SERVER_MESSAGES)
