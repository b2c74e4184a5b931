"""The hall as it looks: screenshots of the lobby, a desk with its sign and the
auditorium, taken in real Chromium (WebGL through SwiftShader), compared with
stored references in ``tests/web/references/`` within a tolerance.

The camera is fixed by the page's test hook (``window.servicepoint.viewpoint``,
which also hides one's own avatar), motion is reduced (no idle animation) and
the server is the test's own, with the shipped world file and nobody else in
it, so the picture depends only on the scene code and the world file.

A deliberate change to the scene updates the references:

    SERVICEPOINT_UPDATE_REFERENCES=1 .venv/bin/pytest tests/web/test_scene_references.py

and the new pictures are committed with the change. On a mismatch the test
writes what it saw and a difference image next to the test's temporary files
and names them in the failure.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageChops

from server.app import ServicePoint
from tests.web.conftest import AgentLoop, docs_screenshot, join, own_server, url

REFERENCES = Path(__file__).parent / "references"
UPDATE = os.environ.get("SERVICEPOINT_UPDATE_REFERENCES") == "1"

# Compared at this size (box-filtered), so antialiasing and a glyph's hinting
# do not count, while a moved wall, a missing sign or a changed colour does.
COMPARE_SIZE = (160, 100)
MEAN_TOLERANCE = 6.0  # mean absolute difference per channel (of 255)
PIXEL_TOLERANCE = 48  # a compared pixel differs if a channel is this far off ...
AREA_TOLERANCE = 0.04  # ... and at most this share of them may differ

# name: (camera position, point looked at), in world metres (server/data/world.toml).
VIEWS: dict[str, tuple[list[float], list[float]]] = {
    # From the entrance, east across the lobby towards the hall's doorway.
    "lobby": ([-57.0, 5.0, 6.0], [-20.0, 1.5, 0.0]),
    # In front of desk 2 (Registration, at x=-4, z=-30): the counter and its sign.
    "desk": ([-4.0, 2.4, -23.0], [-4.0, 1.6, -30.5]),
    # From the auditorium's doorway to the stage at its east end.
    "auditorium": ([22.0, 7.0, 10.0], [55.0, 1.0, 0.0]),
}


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (listed before `open_page`)."""
    yield from own_server(agents, tmp_path)


def difference(seen: Image.Image, reference: Image.Image) -> dict[str, float]:
    """How far two pictures are apart at ``COMPARE_SIZE``: the mean absolute
    difference per channel, and the share of pixels off by ``PIXEL_TOLERANCE``."""
    a = np.asarray(seen.convert("RGB").resize(COMPARE_SIZE, Image.Resampling.BOX), dtype=np.int16)
    b = np.asarray(
        reference.convert("RGB").resize(COMPARE_SIZE, Image.Resampling.BOX), dtype=np.int16
    )
    d = np.abs(a - b)
    return {
        "mean": float(d.mean()),
        "area": float((d.max(axis=2) >= PIXEL_TOLERANCE).mean()),
    }


def test_the_difference_measure_tells_a_changed_scene_from_noise() -> None:
    """The tolerance passes rendering noise and fails a real change."""
    rng = np.random.default_rng(7)
    base = np.full((400, 640, 3), 200, dtype=np.uint8)
    base[150:300, 100:260] = (30, 90, 160)  # a "counter"
    picture = Image.fromarray(base)
    noisy = np.clip(base.astype(np.int16) + rng.integers(-12, 13, base.shape), 0, 255)
    same = difference(Image.fromarray(noisy.astype(np.uint8)), picture)
    assert same["mean"] <= MEAN_TOLERANCE and same["area"] <= AREA_TOLERANCE, same
    moved = np.full_like(base, 200)
    moved[150:300, 300:460] = (30, 90, 160)  # the counter stands somewhere else
    changed = difference(Image.fromarray(moved), picture)
    assert changed["mean"] > MEAN_TOLERANCE or changed["area"] > AREA_TOLERANCE, changed


def shoot(page: Any, name: str) -> Image.Image:
    """Fix the camera on ``VIEWS[name]``, wait for two frames drawn after it, and
    take the 3D view's picture."""
    origin, target = VIEWS[name]
    start = page.evaluate(
        "([f, a]) => { window.servicepoint.viewpoint(f, a);"
        " return window.servicepoint.drawnFrames(); }",
        [origin, target],
    )
    page.wait_for_function("n => window.servicepoint.drawnFrames() >= n + 2", arg=start)
    # The overview map over the view shows one's own (random) spawn point: masked.
    shot = page.locator("#view").screenshot(mask=[page.locator("#orient-map-box")])
    return Image.open(io.BytesIO(shot)).convert("RGB")


def test_lobby_desk_and_auditorium_look_as_recorded(
    sp: ServicePoint, open_page: Any, tmp_path: Path
) -> None:
    page = open_page(base=url(sp))
    page.emulate_media(reduced_motion="reduce")
    join(page, "Ada")
    assert page.evaluate("window.servicepoint.state().view") == "3d"
    page.wait_for_function(
        "() => window.servicepoint.state().deskBoard?.desks?.length > 0"
    )  # the desk signs have their text
    failures = []
    for name in VIEWS:
        seen = shoot(page, name)
        docs_screenshot(page, f"hall-{name}")
        path = REFERENCES / f"{name}.png"
        if UPDATE or not path.exists():
            assert UPDATE, f"no reference {path}: run with SERVICEPOINT_UPDATE_REFERENCES=1"
            REFERENCES.mkdir(exist_ok=True)
            seen.save(path, optimize=True)
            continue
        reference = Image.open(path)
        assert seen.size == reference.size, (name, seen.size, reference.size)
        d = difference(seen, reference)
        print(json.dumps({"reference": name, **d}))
        if d["mean"] > MEAN_TOLERANCE or d["area"] > AREA_TOLERANCE:
            seen.save(tmp_path / f"{name}-seen.png")
            diff = ImageChops.difference(seen, reference.convert("RGB"))
            diff.save(tmp_path / f"{name}-diff.png")
            failures.append(f"{name}: {d} (see {tmp_path}/{name}-seen.png and -diff.png)")
    assert not failures, "the scene differs from its references:\n" + "\n".join(failures)
