"""Messages declare themselves: the feature index, its assembly, and the error codes."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

import pytest

import protocol.messages
from protocol import catalogue
from protocol.catalogue import (
    ALL_ERROR_CODES,
    CLIENT_MESSAGES,
    ERROR_CODES,
    FEATURES,
    SERVER_MESSAGES,
    assemble,
    feature_of_error,
)
from protocol.codec import decode_server, encode
from protocol.errors import ErrorCode
from protocol.messages import (
    audit,
    chat,
    core,
    desks,
    events,
    feedback,
    greeter,
    insight,
    moderation,
    qa,
    scorecard,
    training,
    voice,
)
from protocol.messages.core import CoreError
from protocol.messages.desks import DeskError
from protocol.messages.voice import VoiceErrorCode
from protocol.spec import FeatureProtocol, Field, MessageSpec, c2s, documented, error_codes, s2c

ROOT = Path(__file__).resolve().parents[2]


def test_the_index_lists_every_feature_once() -> None:
    assert [f.name for f in FEATURES] == [
        "core",
        "chat",
        "moderation",
        "desks",
        "voice",
        "feedback",
        "insight",
        "scorecard",
        "training",
        "qa",
        "greeter",
        "events",
        "audit",
    ]
    modules = (
        core,
        chat,
        moderation,
        desks,
        voice,
        feedback,
        insight,
        scorecard,
        training,
        qa,
        greeter,
        events,
        audit,
    )
    assert tuple(m.PROTOCOL for m in modules) == protocol.messages.FEATURES
    # The catalogue's copies differ only in the roles, which come from the permission matrix.
    for m, fp in zip(modules, FEATURES, strict=True):
        assert [s.type for s in m.PROTOCOL.client] == [s.type for s in fp.client]
        assert m.PROTOCOL.server == fp.server and m.PROTOCOL.errors == fp.errors


def test_every_client_message_belongs_to_exactly_one_feature() -> None:
    for direction, table in (("client", CLIENT_MESSAGES), ("server", SERVER_MESSAGES)):
        owners: dict[str, list[str]] = {}
        for fp in FEATURES:
            for spec in getattr(fp, direction):
                owners.setdefault(spec.type, []).append(fp.name)
        assert set(owners) == set(table)
        for t, names in owners.items():
            assert names == [table[t].feature], (direction, t, names)


def test_assignment_of_messages_to_features() -> None:
    def of(feature: str, table: dict[str, MessageSpec]) -> set[str]:
        return {t for t, s in table.items() if s.feature == feature}

    assert of("core", CLIENT_MESSAGES) == {
        "hello",
        "join",
        "move",
        "ping",
        "bye",
        "session_list",
        "session_revoke",
        "my_data",
        "my_data_erase",
    }
    assert of("chat", CLIENT_MESSAGES) == {"chat"}
    assert of("moderation", CLIENT_MESSAGES) == {"announce", "kick", "block", "report"}
    assert of("voice", CLIENT_MESSAGES) == {"rtc_offer", "rtc_ice", "mute", "hangup"}
    assert len(of("desks", CLIENT_MESSAGES)) == 10
    assert of("core", SERVER_MESSAGES) == {
        "welcome",
        "joined",
        "enter",
        "leave",
        "f",
        "correct",
        "zone",
        "error",
        "pong",
        "load",
        "bye",
        "sessions",
        "session_revoked",
        "my_data",
        "my_data_erased",
    }
    assert of("chat", SERVER_MESSAGES) == {"chat", "history"}
    assert of("voice", SERVER_MESSAGES) == {"rtc_answer"}


def test_error_codes_are_unique_across_features_and_documented() -> None:
    seen: list[str] = [code for fp in FEATURES for code in fp.errors]
    assert len(seen) == len(set(seen))
    assert tuple(seen) == ALL_ERROR_CODES == tuple(ERROR_CODES)
    for code, doc in ERROR_CODES.items():
        assert doc.strip().endswith("."), code
        assert feature_of_error(code) is not None
    assert feature_of_error("nope") is None
    assert feature_of_error("closed") == "voice"
    assert feature_of_error("busy") == "desks"


def test_error_classes_match_their_features() -> None:
    for cls, fp in (
        (CoreError, core.PROTOCOL),
        (DeskError, desks.PROTOCOL),
        (VoiceErrorCode, voice.PROTOCOL),
    ):
        assert set(error_codes(cls).values()) == set(fp.errors)
    assert not chat.PROTOCOL.errors and not moderation.PROTOCOL.errors
    assert ErrorCode is CoreError
    for name in (
        "BAD_STATE",
        "FORBIDDEN",
        "INTERNAL",
        "UNKNOWN_ENTITY",
        "SPACE_FULL",
        "MOVE_TOO_FAR",
        "RATE_LIMITED",
        "BAD_VERSION",
        "BAD_TOKEN",
        "BAD_CITIZEN_KEY",
        "TOO_SHORT",
    ):
        assert getattr(ErrorCode, name) == name.lower()
    assert not hasattr(ErrorCode, "UNKNOWN_SERVICE")
    assert VoiceErrorCode.CLOSED == "closed" and "closed" in ERROR_CODES


def _codes_raised(path: Path) -> list[tuple[str, str]]:
    """(where, code) for every ProtocolError(...) built in a module."""
    classes: dict[str, type] = {
        "ErrorCode": ErrorCode,
        "CoreError": CoreError,
        "E": CoreError,
        "DeskError": DeskError,
        "VoiceErrorCode": VoiceErrorCode,
    }
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "ProtocolError"
        ):
            continue
        where = f"{path.name}:{node.lineno}"
        arg = node.args[0] if node.args else None
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append((where, arg.value))
        elif (
            isinstance(arg, ast.Attribute)
            and isinstance(arg.value, ast.Name)
            and arg.value.id in classes
        ):
            found.append((where, getattr(classes[arg.value.id], arg.attr)))
        else:
            found.append((where, f"<not a literal code: {ast.dump(arg) if arg else None}>"))
    return found


def test_every_code_raised_in_protocol_is_a_known_code() -> None:
    raised = [hit for p in sorted((ROOT / "protocol").rglob("*.py")) for hit in _codes_raised(p)]
    assert len(raised) > 15
    unknown = [(where, code) for where, code in raised if code not in ERROR_CODES]
    assert not unknown, unknown


# --- assembly refuses double definitions --------------------------------------


def _feature(
    name: str,
    client: tuple[MessageSpec, ...] = (),
    server: tuple[MessageSpec, ...] = (),
    errors: dict[str, str] | None = None,
) -> FeatureProtocol:
    return FeatureProtocol(name, client, server, errors or {})


def test_assembly_refuses_a_message_type_defined_twice() -> None:
    a = _feature("a", client=(c2s("poke", {}, "Poke."),))
    b = _feature("b", client=(c2s("poke", {}, "Poke again."),))
    with pytest.raises(ValueError, match=r"client message 'poke'.*'a' and 'b'"):
        assemble((a, b))
    c = _feature("c", server=(s2c("poke", {}, "Poked."),))
    client, server, _, _ = assemble((a, c))  # one per direction is fine
    assert client["poke"].feature == "a" and server["poke"].feature == "c"


def test_assembly_refuses_an_error_code_defined_twice() -> None:
    with pytest.raises(ValueError, match=r"error code 'busy'.*'desks' and 'x'"):
        assemble((*FEATURES, _feature("x", errors={"busy": "Busy."})))
    with pytest.raises(ValueError, match="two features are named 'core'"):
        assemble((*FEATURES, _feature("core")))


def test_feature_refuses_misplaced_or_doubled_specs() -> None:
    with pytest.raises(ValueError, match="listed as c2s"):
        _feature("a", client=(s2c("x", {}, ""),))
    with pytest.raises(ValueError, match="twice"):
        _feature("a", client=(c2s("x", {}, ""), c2s("x", {}, "")))
    with pytest.raises(ValueError, match="unknown phases"):
        c2s("x", {}, "", phases=("lobby",))
    with pytest.raises(ValueError, match="unknown roles"):
        c2s("x", {}, "", roles=("king",))
    with pytest.raises(ValueError, match="belongs to 'a'"):
        _feature("b", client=_feature("a", client=(c2s("x", {}, ""),)).client)


def test_documented_checks_the_class() -> None:
    class Codes:
        ONE = "one"

    assert dict(documented(Codes, {"one": "The first."})) == {"one": "The first."}
    with pytest.raises(ValueError, match="without a doc"):
        documented(Codes, {})
    with pytest.raises(ValueError, match="does not define"):
        documented(Codes, {"one": "x", "two": "y"})


def test_message_phases() -> None:
    assert CLIENT_MESSAGES["hello"].phases == ("hello",)
    assert CLIENT_MESSAGES["join"].phases == ("join",)
    assert (
        CLIENT_MESSAGES["ping"].phases
        == CLIENT_MESSAGES["bye"].phases
        == ("hello", "join", "world")
    )
    # The Q&A wall also serves the 2D page, which never joins the world.
    qa = {t for t, s in CLIENT_MESSAGES.items() if s.feature == "qa"}
    assert all(CLIENT_MESSAGES[t].phases == ("join", "world") for t in qa)
    # So does the events schedule (the standalone /events.html page).
    schedule = {"event_schedule", "event_create", "event_cancel", "event_register"}
    assert all(CLIENT_MESSAGES[t].phases == ("join", "world") for t in schedule)
    # Sign-in sessions are listed and revoked from the 2D pages too.
    sessions = {"session_list", "session_revoke", "my_data", "my_data_erase"}
    assert all(CLIENT_MESSAGES[t].phases == ("join", "world") for t in sessions)
    others = set(CLIENT_MESSAGES) - {"hello", "join", "ping", "bye"} - qa - schedule - sessions
    assert all(CLIENT_MESSAGES[t].phases == ("world",) for t in others), [
        t for t in others if CLIENT_MESSAGES[t].phases != ("world",)
    ]
    assert all(s.phases == () for s in SERVER_MESSAGES.values())
    assert catalogue.ROLES == ("citizen", "staff", "host", "manager", "admin", "bot", "captioner")
    assert isinstance(catalogue.Field("int"), Field)


# --- welcome carries a real world ---------------------------------------------

WORLD_TOML = ROOT / "server" / "data" / "world.toml"


def world_from_toml(path: Path) -> dict[str, Any]:
    """What server.world.World.to_wire produces, built from the TOML alone."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        "name": str(data.get("name", "Servicepoint")),
        "bounds": [float(v) for v in data["bounds"]],
        "spawn": [float(v) for v in data.get("spawn", [0.0, 0.0])],
        "zones": [
            {"id": z["id"], "kind": z.get("kind", ""), "rect": [float(v) for v in z["rect"]]}
            for z in data["zones"]
        ],
        "walls": [[float(v) for v in w] for w in data.get("walls", [])],
        "stage": dict(data.get("stage", {})),
        "services": [
            {**s, "target_wait_s": float(s.get("target_wait_s", 600))}
            for s in data.get("services", [])
        ],
        "timezone": str(data.get("timezone", "Europe/Stockholm")),
        "kiosks": [
            {"id": k["id"], "position": [float(v) for v in k["position"]], "names": k["names"]}
            for k in data.get("kiosks", [])
        ],
        "languages": list(data.get("languages", [])),
        "practice_desks": [
            {
                "id": d["id"],
                "position": [float(v) for v in d["position"]],
                "yaw": float(d.get("yaw", 0.0)),
                "names": d["names"],
            }
            for d in data.get("practice_desks", [])
        ],
        **{
            key: {
                "position": [float(v) for v in data[key]["position"]],
                "yaw": float(data[key].get("yaw", 0.0)),
                "names": data[key]["names"],
            }
            for key in ("qa_wall", "greeter")
            if key in data
        },
        "seats": [
            {
                "position": [float(v) for v in r["position"]],
                "yaw": float(r.get("yaw", 0.0)),
                "count": int(r["count"]),
                "spacing": float(r["spacing"]),
                "rows": int(r.get("rows", 1)),
                "row_spacing": float(r.get("row_spacing", 1.0)),
            }
            for r in data.get("seats", [])
        ],
        "doors": [[float(v) for v in d] for d in data.get("doors", [])],
        "desks": [
            {
                "id": d["id"],
                "name": d["name"],
                "services": list(d["services"]),
                "position": [float(v) for v in d["position"]],
                "yaw": float(d.get("yaw", 0.0)),
                "names": dict(d.get("names") or {"en": d["name"]}),
            }
            for d in data.get("desks", [])
        ],
    }


LIMITS = {
    "max_speed": 4.0,
    "chat_radius": 15.0,
    "interest_radius": 20.0,
    "interest_k": 64,
    "max_message_bytes": 16384,
    "rate_per_s": 40.0,
    "rate_burst": 80.0,
}


def welcome(world: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    return {
        "t": "welcome",
        "v": 3,
        "session": "0123456789abcdef",
        "resume": "r" * 43,
        "resume_s": 60,
        "role": "citizen",
        "citizen": "c" * 200,
        "resumed": False,
        "tick_hz": 20,
        "world": world,
        "limits": limits,
    }


def test_welcome_with_the_shipped_world_from_toml_validates() -> None:
    msg = welcome(world_from_toml(WORLD_TOML), LIMITS)
    assert decode_server(encode(msg)) == msg


def test_welcome_with_server_world_to_wire_validates() -> None:
    from server.world import load_world  # tests may import the server; protocol/ may not

    world = load_world(WORLD_TOML).to_wire()
    assert world == world_from_toml(WORLD_TOML)
    msg = welcome(world, LIMITS)
    assert decode_server(encode(msg)) == msg


def test_welcome_refuses_a_malformed_world() -> None:
    from protocol.errors import ProtocolError

    world = world_from_toml(WORLD_TOML)
    world["zones"][0]["rect"] = [0.0, 0.0, 1.0]
    with pytest.raises(ProtocolError) as err:
        decode_server(encode(welcome(world, LIMITS)))
    assert err.value.code == "too_short"
    limits = dict(LIMITS)
    del limits["interest_k"]
    with pytest.raises(ProtocolError) as err:
        decode_server(encode(welcome(world_from_toml(WORLD_TOML), limits)))
    assert err.value.code == "missing_field"


def test_ticket_wait_is_optional() -> None:
    msg = {
        "t": "ticket",
        "ticket": "A-001",
        "service": "general",
        "lang": "sv",
        "status": "waiting",
        "position": 3,
    }
    assert decode_server(encode(msg)) == msg
    assert not SERVER_MESSAGES["ticket"].fields["wait_s"].required
