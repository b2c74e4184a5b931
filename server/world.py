"""The world layout: zones, walls, stage, services and desks, from a TOML file.

``server/data/world.toml`` is shipped with the project; ``SERVICEPOINT_WORLD_PATH``
points at another. `World.to_wire` is what ``welcome`` carries to clients.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray

QUANT_LIMIT_M = 327.0


class WorldError(ValueError):
    """The world file is inconsistent; the message says where."""


@dataclass(frozen=True)
class Zone:
    id: str
    kind: str
    rect: tuple[float, float, float, float]


@dataclass(frozen=True)
class Desk:
    id: str
    name: str
    services: tuple[str, ...]
    position: tuple[float, float]
    yaw: float
    names: dict[str, str] | None = None
    """The desk's name in each UI language (``name`` is the fallback)."""


@dataclass(frozen=True)
class StaffProfile:
    """A staff member's skills, keyed by the subject of their role token (never the name)."""

    subject: str
    name: str
    services: frozenset[str]
    languages: frozenset[str]


DEFAULT_STAFF_LANGUAGES = frozenset({"sv", "en"})
DEFAULT_TARGET_WAIT_S = 600.0
"""A service's target wait when the world file names none (the service level's threshold)."""
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Kiosk:
    """A feedback kiosk standing in the hall: citizens walk up to it to rate their visit."""

    id: str
    position: tuple[float, float]
    names: dict[str, str]


@dataclass(frozen=True)
class PracticeDesk:
    """A practice desk in the training zone: a staff member runs a training scenario there.

    The simulated citizen stands 2 m in front of it, as at a service desk.
    """

    id: str
    position: tuple[float, float]
    yaw: float
    names: dict[str, str]


@dataclass(frozen=True)
class Landmark:
    """A single fixture of the hall: the Q&A wall, the greeter's spot at the entrance."""

    position: tuple[float, float]
    yaw: float
    names: dict[str, str]

    def to_wire(self) -> dict[str, Any]:
        return {"position": list(self.position), "yaw": self.yaw, "names": dict(self.names)}


@dataclass(frozen=True)
class SeatRow:
    """A block of waiting or audience seats: ``rows`` rows of ``count`` seats.

    ``position`` is the middle of the front row; the seats face along ``yaw``
    (forward is (-sin yaw, -cos yaw)), ``spacing`` metres apart side by side,
    and further rows stand ``row_spacing`` metres behind it. Seats do not block
    walking (the server's movement rules know only walls and bounds).
    """

    position: tuple[float, float]
    yaw: float
    count: int
    spacing: float
    rows: int = 1
    row_spacing: float = 1.0

    def seats(self) -> list[tuple[float, float]]:
        """Every seat's (x, z), front row first, west-to-east seen from behind."""
        x, z = self.position
        s, c = math.sin(self.yaw), math.cos(self.yaw)
        out = []
        for r in range(self.rows):
            back = r * self.row_spacing
            for i in range(self.count):
                side = (i - (self.count - 1) / 2) * self.spacing
                out.append((x + s * back + c * side, z + c * back - s * side))
        return out

    def to_wire(self) -> dict[str, Any]:
        return {
            "position": list(self.position),
            "yaw": self.yaw,
            "count": self.count,
            "spacing": self.spacing,
            "rows": self.rows,
            "row_spacing": self.row_spacing,
        }


SEAT_LIMITS = {"count": (1, 200), "rows": (1, 100)}
SEAT_SPACING_M = (0.4, 5.0)
"""Allowed centre-to-centre distance of seats and of rows, metres."""


@dataclass(frozen=True)
class World:
    name: str
    bounds: tuple[float, float, float, float]
    spawn: tuple[float, float]
    spawn_radius: float
    zones: tuple[Zone, ...]
    walls: NDArray[np.float64]
    stage: dict[str, Any]
    services: tuple[dict[str, Any], ...]
    desks: tuple[Desk, ...]
    languages: tuple[str, ...] = ("sv", "da", "de", "ja", "en")
    staff: tuple[StaffProfile, ...] = ()
    timezone: str = "Europe/Stockholm"
    """The service point's IANA time zone: local days and hours of every figure."""
    hours: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Opening hours by weekday (0 = Monday): (open hour, close hour), local time."""
    kiosks: tuple[Kiosk, ...] = ()
    practice_desks: tuple[PracticeDesk, ...] = ()
    qa_wall: Landmark | None = None
    """The Q&A wall's board in the hall (choosing it opens the Q&A panel)."""
    greeter: Landmark | None = None
    """Where the automated greeter stands at the entrance."""
    seats: tuple[SeatRow, ...] = ()
    """Waiting seats in the hall and audience seats in the auditorium (drawn, not blocking)."""
    doors: tuple[tuple[float, float, float, float], ...] = ()
    """Openings in the outer edge (segments along the bounds): drawn as doorways."""

    def practice_desk(self, desk_id: str) -> PracticeDesk | None:
        return next((d for d in self.practice_desks if d.id == desk_id), None)

    def target_wait_s(self, service_id: str) -> float:
        """The service's target wait (seconds), for the service level."""
        service = self.service(service_id) or {}
        return float(service.get("target_wait_s", DEFAULT_TARGET_WAIT_S))

    def kiosk(self, kiosk_id: str) -> Kiosk | None:
        return next((k for k in self.kiosks if k.id == kiosk_id), None)

    def desk(self, desk_id: str) -> Desk | None:
        return next((d for d in self.desks if d.id == desk_id), None)

    def service(self, service_id: str) -> dict[str, Any] | None:
        return next((s for s in self.services if s["id"] == service_id), None)

    def staff_profile(self, subject: str, name: str = "") -> StaffProfile:
        """Skills and languages of the staff member with this token subject.

        Unlisted staff serve every service in sv and en.
        """
        for p in self.staff:
            if p.subject == subject:
                return p
        return StaffProfile(
            subject, name, frozenset(s["id"] for s in self.services), DEFAULT_STAFF_LANGUAGES
        )

    def zone_id_index(self, zone_id: str) -> int | None:
        """Index into `zones` of the zone with this id."""
        return next((i for i, z in enumerate(self.zones) if z.id == zone_id), None)

    def zone_index(self, xz: NDArray[np.float32]) -> NDArray[np.int16]:
        """Index into `zones` for each (x, z) row; -1 where no zone holds it."""
        out = np.full(xz.shape[0], -1, dtype=np.int16)
        for i, zone in enumerate(self.zones):
            x0, z0, x1, z1 = zone.rect
            inside = (xz[:, 0] >= x0) & (xz[:, 0] < x1) & (xz[:, 1] >= z0) & (xz[:, 1] < z1)
            out[inside & (out < 0)] = i
        return out

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bounds": list(self.bounds),
            "spawn": list(self.spawn),
            "zones": [{"id": z.id, "kind": z.kind, "rect": list(z.rect)} for z in self.zones],
            "walls": self.walls.tolist(),
            "stage": self.stage,
            "services": [
                {**s, "target_wait_s": self.target_wait_s(s["id"])} for s in self.services
            ],
            "timezone": self.timezone,
            "kiosks": [
                {"id": k.id, "position": list(k.position), "names": dict(k.names)}
                for k in self.kiosks
            ],
            "languages": list(self.languages),
            "practice_desks": [
                {"id": d.id, "position": list(d.position), "yaw": d.yaw, "names": dict(d.names)}
                for d in self.practice_desks
            ],
            **{
                k: v.to_wire()
                for k, v in (("qa_wall", self.qa_wall), ("greeter", self.greeter))
                if v is not None
            },
            "seats": [r.to_wire() for r in self.seats],
            "doors": [list(d) for d in self.doors],
            "desks": [
                {
                    "id": d.id,
                    "name": d.name,
                    "services": list(d.services),
                    "position": list(d.position),
                    "yaw": d.yaw,
                    "names": dict(d.names or {"en": d.name}),
                }
                for d in self.desks
            ],
        }


def _rect(value: Any, where: str) -> tuple[float, float, float, float]:
    if not isinstance(value, list) or len(value) != 4:
        raise WorldError(f"{where} must be [x0, z0, x1, z1]")
    x0, z0, x1, z1 = (float(v) for v in value)
    if x1 <= x0 or z1 <= z0:
        raise WorldError(f"{where} must have x0 < x1 and z0 < z1")
    if max(abs(x0), abs(z0), abs(x1), abs(z1)) > QUANT_LIMIT_M:
        raise WorldError(f"{where} lies outside +-{QUANT_LIMIT_M} m")
    return x0, z0, x1, z1


def load_world(path: Path) -> World:
    """Parse and check a world file. Raises `WorldError` with the offending key."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    bounds = _rect(data.get("bounds"), "bounds")
    for z in data.get("zones", []):
        extra = set(z) - {"id", "kind", "rect"}
        if extra:
            raise WorldError(f"zone {z.get('id')} has unknown keys {sorted(extra)}")
    zones = tuple(
        Zone(str(z["id"]), str(z.get("kind", "")), _rect(z["rect"], f"zones.{z['id']}.rect"))
        for z in data.get("zones", [])
    )
    if not zones:
        raise WorldError("the world needs at least one zone")
    walls = np.asarray(data.get("walls", []), dtype=np.float64).reshape(-1, 4)
    services = tuple(dict(s) for s in data.get("services", []))
    known = {s["id"] for s in services}
    desks = []
    for d in data.get("desks", []):
        missing = set(d["services"]) - known
        if missing:
            raise WorldError(f"desk {d['id']} offers unknown services {sorted(missing)}")
        desks.append(
            Desk(
                str(d["id"]),
                str(d["name"]),
                tuple(d["services"]),
                (float(d["position"][0]), float(d["position"][1])),
                float(d.get("yaw", 0.0)),
                {str(k): str(v) for k, v in d.get("names", {}).items()} or None,
            )
        )
    stage = dict(data.get("stage", {}))
    staff = []
    subjects: set[str] = set()
    for p in data.get("staff", []):
        missing = set(p.get("services", [])) - known
        if missing:
            raise WorldError(f"staff {p.get('name')} has unknown services {sorted(missing)}")
        if "sub" not in p:
            raise WorldError(f"staff {p.get('name')} needs 'sub', the subject of their token")
        subject = str(p["sub"])
        if subject in subjects:
            raise WorldError(f"staff subject {subject!r} is listed twice")
        subjects.add(subject)
        staff.append(
            StaffProfile(
                subject,
                str(p.get("name", subject)),
                frozenset(p.get("services", [])),
                frozenset(p.get("languages", [])),
            )
        )
    spawn = data.get("spawn", [0.0, 0.0])
    timezone = str(data.get("timezone", "Europe/Stockholm"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise WorldError(f"timezone {timezone!r} is not an IANA time zone") from exc
    for s in services:
        target = s.get("target_wait_s", DEFAULT_TARGET_WAIT_S)
        if not isinstance(target, int | float) or target <= 0:
            raise WorldError(f"service {s['id']}: target_wait_s must be a positive number")
    return World(
        name=str(data.get("name", "Servicepoint")),
        bounds=bounds,
        spawn=(float(spawn[0]), float(spawn[1])),
        spawn_radius=float(data.get("spawn_radius", 2.0)),
        zones=zones,
        walls=walls,
        stage=stage,
        services=services,
        desks=tuple(desks),
        languages=tuple(str(x) for x in data.get("languages", ("sv", "da", "de", "ja", "en"))),
        staff=tuple(staff),
        timezone=timezone,
        hours=_hours(data.get("hours", {})),
        kiosks=_kiosks(data.get("kiosks", [])),
        practice_desks=_practice_desks(data.get("practice_desks", []), {d.id for d in desks}),
        qa_wall=_landmark("qa_wall", data.get("qa_wall")),
        greeter=_landmark("greeter", data.get("greeter")),
        seats=_seats(data.get("seats", []), bounds),
        doors=_doors(data.get("doors", []), bounds),
    )


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WorldError(f"{where} must be a number")
    return float(value)


def _seats(value: Any, bounds: tuple[float, float, float, float]) -> tuple[SeatRow, ...]:
    """``[[seats]]``: position [x, z], yaw, count, spacing (and optional rows, row_spacing)."""
    if not isinstance(value, list):
        raise WorldError("seats must be an array of tables ([[seats]])")
    out: list[SeatRow] = []
    for n, row in enumerate(value):
        where = f"seats[{n}]"
        if not isinstance(row, dict):
            raise WorldError(f"{where} must be a table")
        if extra := set(row) - {"position", "yaw", "count", "spacing", "rows", "row_spacing"}:
            raise WorldError(f"{where} has unknown keys {sorted(extra)}")
        if missing := {"position", "count", "spacing"} - set(row):
            raise WorldError(f"{where} needs {', '.join(sorted(missing))}")
        pos = row["position"]
        if not isinstance(pos, list) or len(pos) != 2:
            raise WorldError(f"{where}.position must be [x, z]")
        counts: dict[str, int] = {}
        for key, (lo, hi) in SEAT_LIMITS.items():
            v = row.get(key, 1)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise WorldError(f"{where}.{key} must be a whole number from {lo} to {hi}")
            counts[key] = v
        spacings: dict[str, float] = {}
        for key in ("spacing", "row_spacing"):
            m = _number(row.get(key, 1.0), f"{where}.{key}")
            if not SEAT_SPACING_M[0] <= m <= SEAT_SPACING_M[1]:
                raise WorldError(
                    f"{where}.{key} must be from {SEAT_SPACING_M[0]} to {SEAT_SPACING_M[1]} m"
                )
            spacings[key] = m
        seat_row = SeatRow(
            (_number(pos[0], f"{where}.position"), _number(pos[1], f"{where}.position")),
            _number(row.get("yaw", 0.0), f"{where}.yaw"),
            counts["count"],
            spacings["spacing"],
            counts["rows"],
            spacings["row_spacing"],
        )
        x0, z0, x1, z1 = bounds
        for x, z in seat_row.seats():
            if not (x0 <= x <= x1 and z0 <= z <= z1):
                raise WorldError(f"{where} has a seat at ({x:.1f}, {z:.1f}), outside the bounds")
        out.append(seat_row)
    return tuple(out)


def _doors(
    value: Any, bounds: tuple[float, float, float, float]
) -> tuple[tuple[float, float, float, float], ...]:
    """``doors``: openings [x0, z0, x1, z1] in the outer edge, each along one side of the bounds."""
    if not isinstance(value, list):
        raise WorldError("doors must be a list of [x0, z0, x1, z1]")
    bx0, bz0, bx1, bz1 = bounds
    out = []
    for n, door in enumerate(value):
        where = f"doors[{n}]"
        if not isinstance(door, list) or len(door) != 4:
            raise WorldError(f"{where} must be [x0, z0, x1, z1]")
        x0, z0, x1, z1 = (_number(v, where) for v in door)
        on_x = x0 == x1 and x0 in (bx0, bx1) and bz0 <= min(z0, z1) < max(z0, z1) <= bz1
        on_z = z0 == z1 and z0 in (bz0, bz1) and bx0 <= min(x0, x1) < max(x0, x1) <= bx1
        if not (on_x or on_z):
            raise WorldError(f"{where} must lie along one side of the bounds, with length")
        out.append((x0, z0, x1, z1))
    return tuple(out)


def _landmark(key: str, value: Any) -> Landmark | None:
    if value is None:
        return None
    if not isinstance(value, dict) or "position" not in value:
        raise WorldError(f"{key} needs a position [x, z]")
    if extra := set(value) - {"position", "yaw", "names"}:
        raise WorldError(f"{key} has unknown keys {sorted(extra)}")
    pos = value["position"]
    if not isinstance(pos, list) or len(pos) != 2:
        raise WorldError(f"{key}.position must be [x, z]")
    x, z = float(pos[0]), float(pos[1])
    if max(abs(x), abs(z)) > QUANT_LIMIT_M:
        raise WorldError(f"{key} lies outside +-{QUANT_LIMIT_M} m")
    names = {str(a): str(b) for a, b in value.get("names", {}).items()} or {"en": key}
    return Landmark((x, z), float(value.get("yaw", 0.0)), names)


def _hours(value: Any) -> dict[int, tuple[int, int]]:
    """``hours = { mon = [8, 17], ... }``: open and close hour by weekday; absent: closed."""
    if not isinstance(value, dict):
        raise WorldError("hours must be a table of weekday = [open hour, close hour]")
    out: dict[int, tuple[int, int]] = {}
    for day, span in value.items():
        if day not in WEEKDAYS:
            raise WorldError(f"hours.{day}: weekday must be one of {', '.join(WEEKDAYS)}")
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(h, int) for h in span)
            or not 0 <= span[0] < span[1] <= 24
        ):
            raise WorldError(
                f"hours.{day} must be [open hour, close hour] with 0 <= open < close <= 24"
            )
        out[WEEKDAYS.index(day)] = (int(span[0]), int(span[1]))
    return out


def _kiosks(value: Any) -> tuple[Kiosk, ...]:
    out = []
    for k in value:
        if "id" not in k or "position" not in k:
            raise WorldError("every kiosk needs an id and a position [x, z]")
        names = {str(a): str(b) for a, b in k.get("names", {}).items()} or {"en": str(k["id"])}
        out.append(Kiosk(str(k["id"]), (float(k["position"][0]), float(k["position"][1])), names))
    return tuple(out)


def _practice_desks(value: Any, desk_ids: set[str]) -> tuple[PracticeDesk, ...]:
    out: list[PracticeDesk] = []
    for d in value:
        if "id" not in d or "position" not in d:
            raise WorldError("every practice desk needs an id and a position [x, z]")
        extra = set(d) - {"id", "position", "yaw", "names"}
        if extra:
            raise WorldError(f"practice desk {d['id']} has unknown keys {sorted(extra)}")
        desk_id = str(d["id"])
        if desk_id in desk_ids or any(p.id == desk_id for p in out):
            raise WorldError(f"practice desk id {desk_id!r} is used twice")
        x, z = (float(v) for v in d["position"])
        if max(abs(x), abs(z)) > QUANT_LIMIT_M:
            raise WorldError(f"practice desk {desk_id} lies outside +-{QUANT_LIMIT_M} m")
        names = {str(a): str(b) for a, b in d.get("names", {}).items()} or {"en": desk_id}
        out.append(PracticeDesk(desk_id, (x, z), float(d.get("yaw", 0.0)), names))
    return tuple(out)
