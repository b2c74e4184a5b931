"""The browser's validator (clients/web/src/protocol/codec.js) agrees with protocol/codec.py.

Messages are generated from the catalogue (valid ones and ones with one fault:
a wrong kind, a limit crossed, a missing or unknown field, NaN/inf), plus
mutated bytes and hand-picked edge cases, piped through
``node clients/web/tools/validate.mjs`` in one batch and compared code by code
with the Python edge (``decode_client`` / ``decode_server``). The generator is
seeded, so a failure names a reproducible message.

Only one field is faulty per message: catalogue.js lists fields in sorted
order while Python checks them in declaration order, so with several faults
the two sides may name different (equally true) first faults.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
from pathlib import Path
from typing import Any

import msgpack

from protocol.catalogue import CLIENT_MESSAGES, SERVER_MESSAGES, Field, MessageSpec
from protocol.codec import decode_client, decode_server
from protocol.errors import ProtocolError

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "clients/web/tools/validate.mjs"


def python_answer(side: str, data: bytes) -> str:
    try:
        (decode_client if side == "client" else decode_server)(data)
    except ProtocolError as exc:
        return exc.code
    return "ok"


def coarse(code: str) -> str:
    """ok / bad_msgpack / refused: what must agree even when several fields are wrong."""
    return code if code in ("ok", "bad_msgpack") else "refused"


def compare(lines: list[tuple[str, bytes]], exact: bool = True) -> None:
    text = "".join(f"{side} {data.hex()}\n" for side, data in lines)
    out = subprocess.run(
        ["node", str(TOOL)], input=text, capture_output=True, text=True, timeout=60, check=True
    )
    got = out.stdout.splitlines()
    assert len(got) == len(lines)
    wrong = [
        f"{side} {data.hex()[:200]}: python {py}, js {js}"
        for (side, data), js in zip(lines, got, strict=True)
        if (py := python_answer(side, data)) != js and (exact or coarse(py) != coarse(js))
    ]
    assert not wrong, f"{len(wrong)} disagreements:\n" + "\n".join(wrong[:20])


def python_detail(side: str, data: bytes) -> dict[str, str]:
    try:
        (decode_client if side == "client" else decode_server)(data)
    except ProtocolError as exc:
        out = {"code": exc.code, "msg": exc.reason}
        if exc.ref is not None:
            out["ref"] = exc.ref
        return out
    return {"code": "ok"}


def compare_detail(lines: list[tuple[str, bytes]]) -> None:
    """Codes, readable reasons and refs agree (bad_msgpack reasons name library errors)."""
    text = "".join(f"{side} {data.hex()}\n" for side, data in lines)
    out = subprocess.run(
        ["node", str(TOOL), "--detail"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    got = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(got) == len(lines)
    wrong = []
    for (side, data), js in zip(lines, got, strict=True):
        py = python_detail(side, data)
        if py["code"] == "bad_msgpack" == js["code"]:
            continue
        if py != js:
            wrong.append(f"{side} {data.hex()[:200]}: python {py}, js {js}")
    assert not wrong, f"{len(wrong)} disagreements:\n" + "\n".join(wrong[:20])


# --- a seeded generator over the catalogue -----------------------------------

ALPHABET = ["a", "Z", "é", "ß", "日", "\U0001f600", " ", "\x00", "\ufeff", "\u200d"]


def rand_text(r: random.Random, lo: int, hi: int) -> str:
    return "".join(r.choice(ALPHABET) for _ in range(r.randint(lo, hi)))


def valid_value(r: random.Random, f: Field) -> Any:
    k = f.kind
    if k == "enum":
        return r.choice(f.values or ("x",))
    if k == "str":
        lo = f.min_len or 0
        hi = f.max_len if f.max_len is not None else lo + 20
        return rand_text(r, lo, min(hi, lo + 20)) if r.random() < 0.9 else rand_text(r, hi, hi)
    if k == "int":
        lo = int(f.min) if f.min is not None else -(2**63)
        hi = int(f.max) if f.max is not None else 2**64 - 1
        return r.choice([lo, hi, r.randint(lo, hi), max(lo, min(hi, r.randint(-5, 300)))])
    if k == "float":
        flo = f.min if f.min is not None else -1e300
        fhi = f.max if f.max is not None else 1e300
        return r.choice(
            [
                flo,
                fhi,
                r.uniform(flo, fhi),
                0.0,
                -0.0,
                r.randint(math.ceil(flo), math.floor(fhi)),
                1.5,
            ]
        )
    if k == "bool":
        return r.random() < 0.5
    if k == "bin":
        return r.randbytes(r.randint(0, min(f.max_len or 24, 24)))
    if k == "list":
        lo = f.min_len or 0
        n = r.randint(lo, max(lo, min(f.max_len or 3, 3)))
        return [valid_value(r, f.items) if f.items else r.randint(0, 9) for _ in range(n)]
    if k == "map":
        if f.fields:
            return valid_map(r, f.fields)
        return {
            rand_text(r, 0, 4): r.choice([1, "x", 2.5, None, [1]]) for _ in range(r.randint(0, 3))
        }
    raise AssertionError(k)


def valid_map(r: random.Random, fields: dict[str, Field]) -> dict[str, Any]:
    return {k: valid_value(r, f) for k, f in fields.items() if f.required or r.random() < 0.5}


def wrong_value(r: random.Random) -> Any:
    return r.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            2**64 - 1,
            -(2**63),
            1.0,
            -0.0,
            0.5,
            1e20,
            2.0**64,
            float("nan"),
            float("inf"),
            -float("inf"),
            "",
            "x",
            b"",
            b"\x01",
            [],
            [1],
            {},
            {"a": 1},
            msgpack.ExtType(3, b"x"),
        ]
    )


def bad_value(r: random.Random, f: Field) -> Any:
    options: list[Any] = [wrong_value(r)]
    if f.kind == "str":
        if f.max_len is not None:
            c = r.choice(["x", "\U0001f600", "é"])
            options += [c * (f.max_len + 1), c * f.max_len]
        if f.min_len:
            options.append("")
    if f.kind in ("int", "float"):
        if f.max is not None:
            options += [f.max + 1, int(f.max) + 1, f.max * 2 + 0.5]
        if f.min is not None:
            options += [f.min - 1, int(f.min) - 1, f.min - 0.5]
    if f.kind == "map" and f.fields:
        options.append(broken_map(r, f.fields))
    if f.kind == "list" and f.items is not None:
        options.append([bad_value(r, f.items)])
        if f.min_len:
            options.append([valid_value(r, f.items) for _ in range(f.min_len - 1)])
        if f.max_len is not None and f.max_len < 10:
            options.append([0] * (f.max_len + 1))
    return r.choice(options)


def broken_map(r: random.Random, fields: dict[str, Field]) -> dict[str, Any]:
    obj = valid_map(r, fields)
    how = r.choice(["missing", "unknown", "bad"])
    if how == "missing":
        req = [k for k, f in fields.items() if f.required]
        if req:
            obj.pop(r.choice(req), None)
    elif how == "unknown":
        key = r.choice([rand_text(r, 0, 5), "__proto__", "constructor", "toString", "0", "T"])
        if key not in fields and key != "t":
            obj[key] = 1
    elif fields:
        name = r.choice(list(fields))
        obj[name] = bad_value(r, fields[name])
    return obj


def message(r: random.Random) -> tuple[str, bytes]:
    side = r.choice(["client", "server"])
    specs: dict[str, MessageSpec] = CLIENT_MESSAGES if side == "client" else SERVER_MESSAGES
    spec = specs[r.choice(sorted(specs))]
    fields = valid_map(r, spec.fields) if r.random() < 0.4 else broken_map(r, spec.fields)
    obj: dict[str, Any] = {"t": spec.type, **fields}
    twist = r.randint(0, 14)
    if twist == 0:
        obj["t"] = r.choice([rand_text(r, 0, 6), 1, None, b"ping", spec.type.upper()])
    elif twist == 1:
        obj.pop("t")
    return side, msgpack.packb(obj, use_bin_type=True, use_single_float=r.random() < 0.3)


def test_generated_messages_agree() -> None:
    r = random.Random(20240601)
    compare([message(r) for _ in range(6000)])


def test_generated_messages_agree_on_reasons_and_refs() -> None:
    r = random.Random(20240602)
    compare_detail([message(r) for _ in range(3000)])


def test_fixed_reasons_agree() -> None:
    cases = [
        {"t": "move", "seq": 2**32, "x": 0, "z": 0, "yaw": 0},  # "between 0 and 4294967295"
        {"t": "move", "seq": 1, "x": 1e9, "z": 0, "yaw": 0},
        {"t": "join", "name": ""},  # too_short
        {"t": "rtc_offer", "sdp": ""},
        {"t": "x" * 40},  # unknown_type, ref cut to 32 characters
        {"t": "\U0001f600" * 33},
        {"t": "hello", "v": 4, "citizen": ""},
        {"t": "hello", "v": 4, "citizen": "k" * 513},
    ]
    server_cases = [
        {"t": "announce", "id": 1, "name": "A", "role": "staff", "text": "hi", "ts": 2e11},
        {
            "t": "ticket",
            "ticket": "A-1",
            "service": "s",
            "lang": "sv",
            "status": "waiting",
            "position": 1,
        },
        {"t": "hello", "v": 4},
    ]
    lines = [("client", msgpack.packb(c, use_bin_type=True)) for c in cases]
    lines += [("server", msgpack.packb(c, use_bin_type=True)) for c in server_cases]
    compare_detail(lines)
    compare(lines)


def test_mutated_bytes_agree_on_accept_or_refuse() -> None:
    r = random.Random(7)
    lines: list[tuple[str, bytes]] = []
    for _ in range(3000):
        side, data = message(r)
        b = bytearray(data)
        for _ in range(r.randint(1, 3)):
            op = r.randint(0, 2)
            i = r.randrange(len(b) + 1)
            if op == 0 and i < len(b):
                b[i] = r.randrange(256)
            elif op == 1:
                b.insert(i, r.randrange(256))
            elif b:
                del b[min(i, len(b) - 1) :]
        lines.append((side, bytes(b)))
    for _ in range(500):
        lines.append((r.choice(["client", "server"]), r.randbytes(r.randint(0, 12))))
    # Mutations can break several fields at once; see the module docstring.
    compare(lines, exact=False)


def test_edge_cases_agree() -> None:
    ping = {"t": "ping", "n": 1}
    cases: list[bytes] = [
        b"",
        b"\xc1",
        msgpack.packb(ping) + b"\x00",  # trailing data
        msgpack.packb({"t": "ping", "n": 1.0}),  # integral float for an int
        msgpack.packb({"t": "ping", "n": -0.0}),
        msgpack.packb({b"t": "ping", "n": 1}),  # binary key
        msgpack.packb({"t": "ping", "n": 1, b"n": 2}),
        b"\x82\xa1t\xa4ping\x01\x01",  # integer key
        msgpack.packb({"t": "ping", "n": 1, "__proto__": 1}),
        msgpack.packb({"t": "ping", "n": 2**64 - 1}),
        msgpack.packb({"t": "ping", "n": -(2**63)}),
        b"\x91" * 1024 + b"\x90",  # too deep for the unpacker
        b"\x91" * 1023 + b"\x90",
        b"\xc7\x00\x05",  # empty ext
        b"\xc7\x00\xff",  # empty timestamp
        b"\xd6\xff\x00\x00\x00\x01",  # timestamp
        b"\xd7\xff\xff\xff\xff\xff\x00\x00\x00\x01",  # timestamp64 with too many nanoseconds
        msgpack.packb({"t": "ping", "n": msgpack.ExtType(5, b"")}),
        msgpack.packb({"t": "chat", "scope": "near", "text": "\ufeffhi"}),  # BOM is kept
        b"\x83\xa1t\xa4chat\xa5scope\xa4near\xa4text\xa3\xed\xa0\x80",  # encoded surrogate
        msgpack.packb({"t": "chat", "scope": "near", "text": "\U0001f600" * 500}),
        msgpack.packb({"t": "chat", "scope": "near", "text": "\U0001f600" * 501}),
        msgpack.packb({"t": "move", "seq": 1, "x": float("nan"), "z": 0, "yaw": 0}),
        msgpack.packb({"t": "move", "seq": 1, "x": float("inf"), "z": 0, "yaw": 0}),
        msgpack.packb({"t": "move", "seq": 1, "x": 1e4, "z": -1e4, "yaw": 1000}),
        msgpack.packb({"t": "move", "seq": 1, "x": 10001, "z": 0, "yaw": 0}),
        msgpack.packb({"t": "move", "seq": True, "x": 0, "z": 0, "yaw": 0}),
        msgpack.packb({"t": "chat", "scope": "near", "text": "x" * 16400}),  # too big a frame
        msgpack.packb([0] * 4097),
        msgpack.packb({str(i): i for i in range(65)}),
    ]
    compare([(side, c) for c in cases for side in ("client", "server")])
