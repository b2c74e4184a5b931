"""The world file's seats (``[[seats]]``) and outer doors (``doors``): parsed,
checked with a clear error, and sent in the world message."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from protocol.codec import decode_server, encode
from server.world import SeatRow, WorldError, load_world
from tests.protocol.test_features import LIMITS, welcome

SHIPPED = Path(__file__).resolve().parents[2] / "server" / "data" / "world.toml"


def _world_with(tmp_path: Path, extra: str, drop_seats: bool = True) -> Path:
    """The shipped world file, its seats left out (``drop_seats``), with ``extra`` added."""
    text = SHIPPED.read_text(encoding="utf-8")
    if drop_seats:
        text = re.sub(r"\[\[seats\]\]\n(?:[a-z_]+ = .*\n)+", "", text)
    path = tmp_path / "world.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


def test_the_shipped_world_has_waiting_and_audience_seats() -> None:
    world = load_world(SHIPPED)
    hall = next(z for z in world.zones if z.id == "hall").rect
    auditorium = next(z for z in world.zones if z.id == "auditorium").rect

    def inside(rect: tuple[float, float, float, float], x: float, z: float) -> bool:
        return rect[0] <= x <= rect[2] and rect[1] <= z <= rect[3]

    waiting = [r for r in world.seats if inside(hall, *r.position)]
    audience = [r for r in world.seats if inside(auditorium, *r.position)]
    assert waiting and audience
    # Waiting seats face the desks (north, yaw 0); audience seats face the stage (east).
    assert all(abs(r.yaw) < 1e-6 for r in waiting)
    assert all(abs(r.yaw + math.pi / 2) < 1e-3 for r in audience)
    assert all(inside(hall, x, z) for r in waiting for x, z in r.seats())
    assert all(inside(auditorium, x, z) for r in audience for x, z in r.seats())
    assert world.doors == ((-60.0, -3.0, -60.0, 3.0),)


def test_seat_positions_follow_yaw_count_spacing_and_rows() -> None:
    # Facing north (yaw 0): seats run west to east, further rows stand to the south.
    row = SeatRow((0.0, 0.0), 0.0, count=3, spacing=1.0, rows=2, row_spacing=2.0)
    got = [(round(x, 6), round(z, 6)) for x, z in row.seats()]
    assert got == [(-1.0, 0.0), (0.0, 0.0), (1.0, 0.0), (-1.0, 2.0), (0.0, 2.0), (1.0, 2.0)]
    # Facing east (yaw -pi/2): the rows stand to the west.
    east = SeatRow((10.0, 0.0), -math.pi / 2, count=1, spacing=1.0, rows=2, row_spacing=1.5)
    assert [(round(x, 6), round(z, 6)) for x, z in east.seats()] == [(10.0, 0.0), (8.5, 0.0)]


def test_seats_are_in_the_world_message(tmp_path: Path) -> None:
    path = _world_with(
        tmp_path, "[[seats]]\nposition = [0.0, 10.0]\nyaw = 0.0\ncount = 5\nspacing = 0.7\n"
    )
    wire = load_world(path).to_wire()
    assert wire["seats"] == [
        {
            "position": [0.0, 10.0],
            "yaw": 0.0,
            "count": 5,
            "spacing": 0.7,
            "rows": 1,
            "row_spacing": 1.0,
        }
    ]
    assert wire["doors"] == [[-60.0, -3.0, -60.0, 3.0]]
    # The protocol's welcome takes it (the codec checks every field).
    msg = welcome(wire, LIMITS)
    assert decode_server(encode(msg)) == msg


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("position = [0.0, 0.0]\ncount = 3", r"seats\[0\] needs spacing"),
        ("position = [0.0]\ncount = 3\nspacing = 1.0", r"seats\[0\]\.position must be \[x, z\]"),
        ("position = [0.0, 0.0]\ncount = 0\nspacing = 1.0", r"seats\[0\]\.count must be a whole"),
        ("position = [0.0, 0.0]\ncount = 2.5\nspacing = 1.0", r"seats\[0\]\.count must be a whole"),
        ("position = [0.0, 0.0]\ncount = 3\nspacing = 0.1", r"seats\[0\]\.spacing must be from"),
        ('position = [0.0, 0.0]\ncount = 3\nspacing = "wide"', r"seats\[0\]\.spacing must be a"),
        (
            'position = [0.0, 0.0]\ncount = 3\nspacing = 1.0\nyaw = "north"',
            r"seats\[0\]\.yaw must be a number",
        ),
        (
            "position = [0.0, 0.0]\ncount = 3\nspacing = 1.0\nrows = 0",
            r"seats\[0\]\.rows must be a whole",
        ),
        (
            "position = [0.0, 0.0]\ncount = 3\nspacing = 1.0\ncolour = 1",
            r"seats\[0\] has unknown keys \['colour'\]",
        ),
        # 40 seats 1 m apart around x = 50: the last ones stand east of the bounds (60).
        ("position = [50.0, 0.0]\ncount = 40\nspacing = 1.0", r"outside the bounds"),
    ],
)
def test_bad_seats_are_refused_with_the_key(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(WorldError, match=message):
        load_world(_world_with(tmp_path, f"[[seats]]\n{row}\n"))


@pytest.mark.parametrize(
    ("doors", "message"),
    [
        ("[[-50.0, -3.0, -50.0, 3.0]]", r"doors\[0\] must lie along one side of the bounds"),
        ("[[-60.0, 3.0, -60.0, 3.0]]", r"doors\[0\] must lie along one side"),
        ("[[-60.0, 3.0]]", r"doors\[0\] must be \[x0, z0, x1, z1\]"),
    ],
)
def test_bad_doors_are_refused(tmp_path: Path, doors: str, message: str) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "doors = [\n  [-60.0, -3.0, -60.0, 3.0],\n]", f"doors = {doors}"
    )
    path = tmp_path / "world.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WorldError, match=message):
        load_world(path)
