"""The browser's protocol twin agrees with this one.

The JavaScript catalogue is generated from the Python one (checked to be
current), and the JavaScript validator gives the same verdict as the Python
validator on a set of good and bad messages, run in Node.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import msgpack

from protocol import export
from protocol.codec import decode_client, decode_server
from protocol.errors import ProtocolError

ROOT = Path(__file__).resolve().parents[2]


def test_generated_catalogue_is_current() -> None:
    assert export.TARGET.read_text(encoding="utf-8") == export.render(), (
        "run `python -m protocol.export` and commit clients/web/src/protocol/catalogue.js"
    )


CASES: list[tuple[str, Any]] = [
    ("client", {"t": "hello", "v": 1}),
    ("client", {"t": "hello", "v": 1, "token": "abc", "lang": "sv-SE"}),
    ("client", {"t": "hello", "v": 0}),
    ("client", {"t": "hello", "v": 2, "citizen": "k" * 512}),
    ("client", {"t": "hello", "v": 2, "citizen": ""}),
    ("client", {"t": "rtc_ice", "candidate": ""}),
    ("client", {"t": "join", "name": "Åsa Öberg"}),
    ("client", {"t": "join", "name": "日本語の名前"}),
    ("client", {"t": "join", "name": "x" * 33}),
    ("client", {"t": "join", "name": "😀" * 32}),
    ("client", {"t": "join", "name": "Ada", "avatar": "dragon"}),
    ("client", {"t": "join", "name": "Ada", "color": 0xFFFFFF}),
    ("client", {"t": "move", "seq": 3, "x": 1.5, "z": -2, "yaw": 0.25}),
    ("client", {"t": "move", "seq": 3, "x": math.inf, "z": -2, "yaw": 0.25}),
    ("client", {"t": "move", "seq": 3, "x": 1.5, "z": -2}),
    ("client", {"t": "move", "seq": 2**32, "x": 1.5, "z": -2, "yaw": 0}),
    ("client", {"t": "move", "seq": True, "x": 1.5, "z": -2, "yaw": 0}),
    ("client", {"t": "chat", "scope": "zone", "text": "hej"}),
    ("client", {"t": "chat", "scope": "world", "text": "hej"}),
    ("client", {"t": "chat", "scope": "zone", "text": ""}),
    ("client", {"t": "chat", "scope": "zone", "text": "a" * 501}),
    ("client", {"t": "ping", "n": 1, "extra": 2}),
    ("client", {"t": "nope"}),
    ("client", [1, 2]),
    ("client", {"x": 1}),
    ("server", {"t": "leave", "ids": [1, 2, 3]}),
    ("server", {"t": "leave", "ids": [0]}),
    (
        "server",
        {"t": "f", "k": 1, "i": b"\x01\x00\x00\x00", "p": b"\x00\x00\x00\x00", "r": b"\x00\x00"},
    ),
    ("server", {"t": "f", "k": 1, "i": "text", "p": b"", "r": b""}),
    ("server", {"t": "error", "code": "x", "msg": "y"}),
    (
        "server",
        {
            "t": "ticket",
            "ticket": "A-1",
            "service": "s",
            "lang": "sv",
            "status": "waiting",
            "position": 1,
        },
    ),
    (
        "server",
        {
            "t": "enter",
            "e": [
                {
                    "id": 1,
                    "name": "A",
                    "role": "staff",
                    "color": 1,
                    "avatar": "tall",
                    "x": 0,
                    "z": 0,
                    "yaw": 0,
                }
            ],
        },
    ),
    (
        "server",
        {
            "t": "enter",
            "e": [
                {
                    "id": 1,
                    "name": "A",
                    "role": "king",
                    "color": 1,
                    "avatar": "tall",
                    "x": 0,
                    "z": 0,
                    "yaw": 0,
                }
            ],
        },
    ),
]


def python_verdict(side: str, raw: bytes) -> str:
    try:
        (decode_client if side == "client" else decode_server)(raw)
    except ProtocolError as exc:
        return exc.code
    return "ok"


def test_js_validator_agrees_with_python() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for the web client and its protocol twin"
    tool = ROOT / "clients/web/tools/validate.mjs"
    lines = []
    expected = []
    for side, obj in CASES:
        raw = msgpack.packb(obj, use_bin_type=True)
        lines.append(f"{side} {raw.hex()}")
        expected.append(python_verdict(side, raw))
    lines.append("client c1ff")
    expected.append(python_verdict("client", bytes.fromhex("c1ff")))
    out = subprocess.run(
        [node, str(tool)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT / "clients/web",
    )
    got = out.stdout.split()
    assert got == expected, list(zip(lines, expected, got, strict=False))
    assert "ok" in expected and len(set(expected)) > 5


def test_protocol_doc_is_current() -> None:
    text = export.DOC.read_text(encoding="utf-8")
    assert export.splice_docs(text) == text, "run `python -m protocol.export --docs`"
