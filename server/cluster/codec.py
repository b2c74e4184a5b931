"""The bus's wire format between server processes (never sent to clients).

Each message is one msgpack array starting with the version and a kind:

- `RegionBatch` (``r``): one process's avatars in one region (a grid cell) at one
  tick: ids, float32 positions and yaw as packed little-endian arrays (``bin``),
  plus the identities of those that entered the region since the publisher's last
  tick (all of them in a snapshot, once a second, which heals a missed tick);
- `Beat` (``b``): a process's tick is published; every region batch of that tick
  was published before it, so a replica not listed by then has left; once a second
  it also carries who is connected to it (the cluster's directory);
- `Relay` (``d``): an encoded client message for some of the receiving process's
  avatars (near or zone chat, announcements);
- `Kick` (``k``): remove one of the receiving process's avatars;
- `Release` (``l``): let go of one of the receiving process's avatars, which a
  client resumed on the sender (its old connection closes with 4009);
- `SnapshotRequest` (``s``): the sender (re)subscribed; every publisher sends a
  snapshot on its next tick instead of waiting for the once-a-second one;
- `Forward` (``w``): to the feature home (`server.cluster.home`), a client message or
  a lifecycle hook of a feature that runs there, with the sender's identity;
- `Place` (``p``): move one of the receiving process's avatars (a feature on another
  process, such as the desks at home, placed it);
- `RightsCall` (``c``) and `RightsAnswer` (``a``): a citizen's data export or erasure
  asked on one process, for the features at the home, and their answer;
- `HttpCall` (``h``) and `HttpAnswer` (``o``): a home feature's HTTP route asked on
  another process (an event's schedule or slide), answered at the home;
- `Stage` (``g``): from the feature home to everyone, how the events stage avatars
  (`Staged`: instance, audience, spotlight, rider channel) and the tick's rider
  payloads (an event's listen-only audio, encoded once at home, fanned out by each
  process to its own listeners);
- `BlockChange` (``x``): a citizen blocked (or unblocked) someone on the sender; every
  process applies it to its copy of the blocks (the store already has it).

``sent_at`` is the publisher's wall clock, so a receiver measures the bus delay.
`decode` raises `BusDecodeError` for anything malformed; a receiver drops it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgpack
import numpy as np
from numpy.typing import NDArray

from protocol.messages.common import AVATAR, NAME
from protocol.spec import ROLES

VERSION = 1
IDENTITY_KEYS = ("id", "name", "role", "color", "avatar", "subject", "verified")
"""What a replica needs to be shown and addressed (the subject never leaves the servers)."""


class BusDecodeError(ValueError):
    """A bus message that is not one of ours (or not this version)."""


SUBJECT_MAX = 256


def _valid_identity(ident: object) -> bool:
    """An identity a replica can be shown with: what clients are sent in ``enter``
    (name, role, colour and shape within the protocol), so a bad publisher can never
    make a server send its clients something they refuse."""
    if not isinstance(ident, dict) or set(ident) - set(IDENTITY_KEYS):
        return False
    entity, name = ident.get("id"), ident.get("name")
    color, subject = ident.get("color", 0), ident.get("subject", "")
    return (
        isinstance(entity, int)
        and 0 <= entity < 2**32
        and isinstance(name, str)
        and (NAME.min_len or 0) <= len(name) <= (NAME.max_len or 0)
        and ident.get("role") in ROLES
        and isinstance(color, int)
        and 0 <= color <= 0xFFFFFF
        and ident.get("avatar", "round") in (AVATAR.values or ())
        and isinstance(subject, str)
        and len(subject) <= SUBJECT_MAX
        and isinstance(ident.get("verified", False), bool)
    )


def _empty_u32() -> NDArray[np.uint32]:
    return np.zeros(0, dtype=np.uint32)


def _empty_pos() -> NDArray[np.float32]:
    return np.zeros((0, 2), dtype=np.float32)


def _empty_f32() -> NDArray[np.float32]:
    return np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class RegionBatch:
    origin: str
    tick: int
    sent_at: float
    region: tuple[int, int]
    snapshot: bool = False
    ids: NDArray[np.uint32] = field(default_factory=_empty_u32)
    positions: NDArray[np.float32] = field(default_factory=_empty_pos)
    yaw: NDArray[np.float32] = field(default_factory=_empty_f32)
    identities: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Beat:
    origin: str
    tick: int
    sent_at: float
    people: tuple[dict[str, Any], ...] | None = None
    """On a snapshot beat (once a second): the identities of everyone connected to the
    publisher, wherever they are (the cluster's directory: who is here, and where)."""


@dataclass(frozen=True)
class Relay:
    origin: str
    ids: tuple[int, ...]
    payload: bytes


@dataclass(frozen=True)
class Kick:
    origin: str
    id: int
    reason: str


@dataclass(frozen=True)
class Release:
    origin: str
    id: int


@dataclass(frozen=True)
class SnapshotRequest:
    """A process (re)subscribed: every publisher sends a snapshot on its next tick."""

    origin: str


HOOKS = ("message", "entered", "left", "zone")


@dataclass(frozen=True)
class Forward:
    """For the feature home: ``hook`` ``message`` carries the client's message (``body``,
    encoded as the client sent it, validated again at home); ``entered`` and ``left``
    carry ``flag`` (resumed, for good); ``zone`` the zone id in ``body``. ``at`` and
    ``zone_id``: where the sender's own process had them then (the home may not have
    them in view: a kiosk asks how far away they are)."""

    origin: str
    feature: str
    hook: str
    person: dict[str, Any]
    body: bytes = b""
    flag: bool = False
    at: tuple[float, float] | None = None
    zone_id: str = ""


@dataclass(frozen=True)
class Place:
    origin: str
    id: int
    x: float
    z: float
    yaw: float


RIGHTS_OPS = ("export", "erase")


@dataclass(frozen=True)
class RightsCall:
    """Run a home feature's `export_data` or `erase_data` for ``subject`` (never logged)."""

    origin: str
    id: int
    feature: str
    op: str
    subject: str


@dataclass(frozen=True)
class RightsAnswer:
    """``result``: the export, or ``{"removed", "anonymised"}``; ``error`` when it failed."""

    origin: str
    id: int
    result: dict[str, Any]
    error: str = ""


HTTP_BODY_MAX = 32 * 1024 * 1024
"""An HTTP answer from home at most this long (a rendered slide is far smaller)."""


@dataclass(frozen=True)
class HttpCall:
    """Answer a home feature's HTTP route (``route``: its name) at the home for a caller
    whose token the asking process verified (the subject is never logged)."""

    origin: str
    id: int
    feature: str
    route: str
    query: dict[str, str]
    caller: tuple[str, str, str]
    """Subject, name and role."""


@dataclass(frozen=True)
class HttpAnswer:
    """The home's reply; ``error`` set (and ``status`` 0) when it could not answer."""

    origin: str
    id: int
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    filename: str = ""
    error: str = ""


CHANNEL_MAX = 64
LAYER_MAX = 0x7FFF
"""`Space.layer` is int16."""
RIDER_MAX = 256 * 1024
STAGED_MAX = 1 << 20


@dataclass(frozen=True)
class Staged:
    """How an avatar is staged (`server.staging.Staging`): its event instance (0: the
    shared space), whether it is in an audience or spotlit, its rider channel ("": none)."""

    layer: int = 0
    audience: bool = False
    spotlight: bool = False
    channel: str = ""

    @property
    def plain(self) -> bool:
        """Not staged at all (as every avatar starts)."""
        return self == PLAIN


PLAIN = Staged()


@dataclass(frozen=True)
class Stage:
    """``staged``: what changed since the home's last `Stage` (a `PLAIN` entry unstages),
    or, in a ``snapshot`` (once a second), everyone staged; ``riders``: this tick's
    payloads by rider channel."""

    origin: str
    snapshot: bool
    staged: tuple[tuple[int, Staged], ...] = ()
    riders: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class BlockChange:
    origin: str
    subject: str
    other: str
    on: bool


HomeMessage = Forward | RightsCall | RightsAnswer | HttpCall | HttpAnswer

BusMessage = (
    RegionBatch
    | Beat
    | Relay
    | Kick
    | Release
    | SnapshotRequest
    | Forward
    | Place
    | RightsCall
    | RightsAnswer
    | HttpCall
    | HttpAnswer
    | Stage
    | BlockChange
)


def encode(msg: BusMessage) -> bytes:
    if isinstance(msg, RegionBatch):
        n = len(msg.ids)
        if msg.positions.shape != (n, 2) or msg.yaw.shape != (n,):
            raise ValueError("ids, positions and yaw must describe the same avatars")
        body: list[Any] = [
            VERSION,
            "r",
            msg.origin,
            msg.tick,
            msg.sent_at,
            msg.region[0],
            msg.region[1],
            msg.snapshot,
            np.ascontiguousarray(msg.ids, dtype="<u4").tobytes(),
            np.ascontiguousarray(msg.positions, dtype="<f4").tobytes(),
            np.ascontiguousarray(msg.yaw, dtype="<f4").tobytes(),
            [{k: ident[k] for k in IDENTITY_KEYS if k in ident} for ident in msg.identities],
        ]
    elif isinstance(msg, Beat):
        body = [VERSION, "b", msg.origin, msg.tick, msg.sent_at]
        if msg.people is not None:
            body.append([{k: p[k] for k in IDENTITY_KEYS if k in p} for p in msg.people])
    elif isinstance(msg, Relay):
        body = [VERSION, "d", msg.origin, list(msg.ids), msg.payload]
    elif isinstance(msg, Kick):
        body = [VERSION, "k", msg.origin, msg.id, msg.reason]
    elif isinstance(msg, SnapshotRequest):
        body = [VERSION, "s", msg.origin]
    elif isinstance(msg, Forward):
        person = {k: msg.person[k] for k in IDENTITY_KEYS if k in msg.person}
        at = list(msg.at) if msg.at is not None else None
        body = [VERSION, "w", msg.origin, msg.feature, msg.hook, person, msg.body, msg.flag]
        body += [at, msg.zone_id]
    elif isinstance(msg, Place):
        body = [VERSION, "p", msg.origin, msg.id, msg.x, msg.z, msg.yaw]
    elif isinstance(msg, RightsCall):
        body = [VERSION, "c", msg.origin, msg.id, msg.feature, msg.op, msg.subject]
    elif isinstance(msg, RightsAnswer):
        body = [VERSION, "a", msg.origin, msg.id, msg.result, msg.error]
    elif isinstance(msg, HttpCall):
        body = [VERSION, "h", msg.origin, msg.id, msg.feature, msg.route, msg.query]
        body.append(list(msg.caller))
    elif isinstance(msg, HttpAnswer):
        body = [VERSION, "o", msg.origin, msg.id, msg.status, msg.body, msg.content_type]
        body += [msg.filename, msg.error]
    elif isinstance(msg, Stage):
        staged = [[e, s.layer, s.audience, s.spotlight, s.channel] for e, s in msg.staged]
        riders = [[c, p] for c, p in msg.riders]
        body = [VERSION, "g", msg.origin, msg.snapshot, staged, riders]
    elif isinstance(msg, BlockChange):
        body = [VERSION, "x", msg.origin, msg.subject, msg.other, msg.on]
    else:
        body = [VERSION, "l", msg.origin, msg.id]
    return bytes(msgpack.packb(body, use_bin_type=True))


def _int(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise BusDecodeError("expected an integer")
    return v


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise BusDecodeError("expected a string")
    return v


def _float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise BusDecodeError("expected a number")
    return float(v)


def _array(raw: Any, dtype: str, n: int, width: int = 1) -> NDArray[Any]:
    if not isinstance(raw, bytes) or len(raw) != 4 * n * width:
        raise BusDecodeError("a packed array has the wrong length")
    arr = np.frombuffer(raw, dtype=dtype).astype(dtype[1:], copy=True)
    return arr.reshape(n, width) if width > 1 else arr


def decode(data: bytes) -> BusMessage:
    try:
        body = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:
        raise BusDecodeError(f"not msgpack: {exc}") from None
    if not isinstance(body, list) or len(body) < 3 or body[0] != VERSION:
        raise BusDecodeError("not a bus message of this version")
    kind, origin = body[1], _str(body[2])
    if kind == "r" and len(body) == 12:
        raw_ids = body[8]
        if not isinstance(raw_ids, bytes) or len(raw_ids) % 4:
            raise BusDecodeError("bad ids")
        n = len(raw_ids) // 4
        identities = body[11]
        if not isinstance(identities, list) or not all(map(_valid_identity, identities)):
            raise BusDecodeError("bad identities")
        if not isinstance(body[7], bool):
            raise BusDecodeError("bad snapshot flag")
        return RegionBatch(
            origin=origin,
            tick=_int(body[3]),
            sent_at=_float(body[4]),
            region=(_int(body[5]), _int(body[6])),
            snapshot=body[7],
            ids=_array(raw_ids, "<u4", n),
            positions=_array(body[9], "<f4", n, 2),
            yaw=_array(body[10], "<f4", n),
            identities=tuple(identities),
        )
    if kind == "s" and len(body) == 3:
        return SnapshotRequest(origin)
    if kind == "b" and len(body) in (5, 6):
        people = None
        if len(body) == 6:
            if not isinstance(body[5], list) or not all(map(_valid_identity, body[5])):
                raise BusDecodeError("bad people")
            people = tuple(body[5])
        return Beat(origin, _int(body[3]), _float(body[4]), people)
    if kind == "d" and len(body) == 5:
        ids = body[3]
        if not isinstance(ids, list) or not isinstance(body[4], bytes):
            raise BusDecodeError("bad relay")
        return Relay(origin, tuple(_int(i) for i in ids), body[4])
    if kind == "k" and len(body) == 5:
        return Kick(origin, _int(body[3]), _str(body[4]))
    if kind == "l" and len(body) == 4:
        return Release(origin, _int(body[3]))
    if kind == "w" and len(body) == 10:
        feature, hook, person, raw, flag, at, zone_id = body[3:]
        if (
            not isinstance(feature, str)
            or hook not in HOOKS
            or not _valid_identity(person)
            or not isinstance(raw, bytes)
            or not isinstance(flag, bool)
            or not isinstance(zone_id, str)
            or not (at is None or (isinstance(at, list) and len(at) == 2))
        ):
            raise BusDecodeError("bad forward")
        where = (_float(at[0]), _float(at[1])) if at is not None else None
        return Forward(origin, feature, hook, person, raw, flag, where, zone_id)
    if kind == "c" and len(body) == 7:
        if body[5] not in RIGHTS_OPS:
            raise BusDecodeError("bad rights call")
        return RightsCall(origin, _int(body[3]), _str(body[4]), body[5], _str(body[6]))
    if kind == "a" and len(body) == 6:
        if not isinstance(body[4], dict):
            raise BusDecodeError("bad rights answer")
        return RightsAnswer(origin, _int(body[3]), body[4], _str(body[5]))
    if kind == "p" and len(body) == 7:
        return Place(origin, _int(body[3]), _float(body[4]), _float(body[5]), _float(body[6]))
    if kind == "h" and len(body) == 8:
        query, caller = body[6], body[7]
        if (
            not isinstance(query, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
            or not (isinstance(caller, list) and len(caller) == 3)
            or not all(isinstance(c, str) for c in caller)
        ):
            raise BusDecodeError("bad http call")
        return HttpCall(origin, _int(body[3]), _str(body[4]), _str(body[5]), query, tuple(caller))
    if kind == "o" and len(body) == 9:
        raw = body[5]
        if not isinstance(raw, bytes) or len(raw) > HTTP_BODY_MAX:
            raise BusDecodeError("bad http answer")
        status = _int(body[4])
        if not (status == 0 or 100 <= status <= 599):
            raise BusDecodeError("bad http status")
        return HttpAnswer(
            origin, _int(body[3]), status, raw, _str(body[6]), _str(body[7]), _str(body[8])
        )
    if kind == "g" and len(body) == 6:
        return _stage(origin, body[3], body[4], body[5])
    if kind == "x" and len(body) == 6:
        if not isinstance(body[5], bool):
            raise BusDecodeError("bad block change")
        return BlockChange(origin, _str(body[3]), _str(body[4]), body[5])
    raise BusDecodeError(f"unknown bus message kind {kind!r}")


def _stage(origin: str, snapshot: Any, staged: Any, riders: Any) -> Stage:
    if (
        not isinstance(snapshot, bool)
        or not isinstance(staged, list)
        or not isinstance(riders, list)
        or len(staged) > STAGED_MAX
    ):
        raise BusDecodeError("bad stage")
    entries: list[tuple[int, Staged]] = []
    for item in staged:
        if not isinstance(item, list) or len(item) != 5:
            raise BusDecodeError("bad staged avatar")
        entity, layer, audience, spotlight, channel = item
        if (
            not 0 <= _int(entity) < 2**32
            or not 0 <= _int(layer) <= LAYER_MAX
            or not isinstance(audience, bool)
            or not isinstance(spotlight, bool)
            or len(_str(channel)) > CHANNEL_MAX
        ):
            raise BusDecodeError("bad staged avatar")
        entries.append((entity, Staged(layer, audience, spotlight, channel)))
    payloads: list[tuple[str, bytes]] = []
    for item in riders:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not 0 < len(_str(item[0])) <= CHANNEL_MAX
            or not isinstance(item[1], bytes)
            or len(item[1]) > RIDER_MAX
        ):
            raise BusDecodeError("bad rider")
        payloads.append((item[0], item[1]))
    return Stage(origin, snapshot, tuple(entries), tuple(payloads))
