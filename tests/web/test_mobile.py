"""Phones and tablets in real Chromium: a phone-sized page with touch emulation.

The touch joystick (nipplejs, clients/web/src/touch.js) is driven by real touch
events (CDP ``Input.dispatchTouchEvent``, which Chromium turns into pointer
events, as on a phone) and walks the avatar the way it is pushed; a drag across
the view turns it; a tap on the floor still walks there. The side panels are a
bottom sheet whose button (aria-expanded) collapses and expands it; a citizen
joins and takes a queue ticket through it. Touch targets are measured at least
44 x 44 CSS px (WCAG 2.5.5) and axe finds no violations. No assertion is about
time: every wait polls the page's state with a generous timeout.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import Server, docs_screenshot, join, state, wait_state
from tests.web.test_a11y import axe_violations

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
    "locale": "en-US",
    "reduced_motion": "reduce",
}

# Interactive controls of the top bar and the sheet; a radio or checkbox is
# measured with its label (tapping either operates it).
TARGETS = """() => {
  const small = [];
  const sel = 'header button, header select, header a, aside button, aside select, aside input,'
    + ' aside a, #touch-stick';
  for (const el of document.querySelectorAll(sel)) {
    const r0 = el.getBoundingClientRect();
    if (!r0.width || !r0.height || getComputedStyle(el).visibility === 'hidden') continue;
    if (el.closest('.visually-hidden')) continue;
    let r = r0;
    if (el.type === 'radio' || el.type === 'checkbox') {
      const label = el.closest('label') || document.querySelector(`label[for="${el.id}"]`);
      if (label) r = label.getBoundingClientRect();
    }
    if (r.width < 44 || r.height < 44) {
      small.push(`${el.tagName}#${el.id}.${el.className} ${r.width}x${r.height}`);
    }
  }
  return small;
}"""


@pytest.fixture
def phone(server: Server, browser: Any) -> Iterator[tuple[Any, Any]]:
    """A phone-sized page with touch, and a CDP session on it; page errors fail the test."""
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(server.url + "/")
    page.wait_for_function("() => window.servicepoint !== undefined", timeout=15_000)
    cdp = ctx.new_cdp_session(page)
    yield page, cdp
    ctx.close()
    assert not errors, errors


def touch(cdp: Any, kind: str, x: float = 0, y: float = 0) -> None:
    """One real touch event (touchStart / touchMove / touchEnd) at CSS px (x, y)."""
    points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def centre(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def on_canvas(page: Any, x: float, y: float) -> bool:
    """Is the hall view itself (not an overlay on it) at CSS px (x, y)?"""
    return bool(page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.id === 'view'", [x, y]))


def test_phone_joystick_look_sheet_and_ticket(phone: tuple[Any, Any]) -> None:
    page, cdp = phone
    assert page.is_visible("#sheet-toggle") and page.is_hidden("#touch-stick")  # not in the hall
    assert page.get_attribute("#sheet-toggle", "aria-expanded") == "true"
    assert state(page)["touch"]["enabled"] and state(page)["sheet"]["narrow"]
    assert page.is_visible("#touch-help")
    assert axe_violations(page) == []

    # Join through the sheet (the join form is in it): the joystick shows.
    start = join(page, "Pia")["self"]
    assert page.is_visible("#touch-stick")
    page.wait_for_selector("#touch-stick .front")  # nipplejs is loaded on touch devices only
    # Reduced motion asked for: no transitions (and the camera does not ease, scene3d.js).
    moving = (
        "e => { e.style.transition = 'opacity 2s'; return getComputedStyle(e).transitionDuration }"
    )
    assert page.eval_on_selector("#touch-stick .front", moving) == "0s"

    # Push the stick straight up (forward) to its edge and hold: the avatar walks ahead.
    x, y = centre(page, "#touch-stick")
    touch(cdp, "touchStart", x, y)
    for step in range(1, 7):
        touch(cdp, "touchMove", x, y - 10 * step)
    s = wait_state(page, "s.touch.pushed && s.touch.pushed.y > 0.9")
    assert abs(s["touch"]["pushed"]["x"]) < 0.1
    fx, fz = -math.sin(start["yaw"]), -math.cos(start["yaw"])  # forward at yaw
    sx, sz = start["x"], start["z"]
    s = wait_state(page, f"(s.self.x - {sx}) * {fx} + (s.self.z - {sz}) * {fz} > 1")
    dx, dz = s["self"]["x"] - sx, s["self"]["z"] - sz
    ahead = dx * fx + dz * fz
    aside = abs(dx * fz - dz * fx)
    assert aside < 0.2 * ahead, (dx, dz, start)  # ahead, not sideways
    # Half way out is half a push (analog: the walking speed scales with it).
    touch(cdp, "touchMove", x + 24, y)  # the stick's radius is 48 px
    s = wait_state(page, "s.touch.pushed && s.touch.pushed.x > 0.3")
    assert 0.4 < s["touch"]["pushed"]["x"] < 0.6 and abs(s["touch"]["pushed"]["y"]) < 0.1
    touch(cdp, "touchEnd")
    wait_state(page, "s.touch.pushed === null")

    # Drag across the view (away from the stick) to the left: the avatar turns left.
    yaw0 = state(page)["self"]["yaw"]
    view = page.locator("#view").bounding_box()
    lx, ly = view["x"] + view["width"] - 30, view["y"] + view["height"] - 24
    assert on_canvas(page, lx, ly) and on_canvas(page, lx - 120, ly)
    touch(cdp, "touchStart", lx, ly)
    for step in range(1, 9):
        touch(cdp, "touchMove", lx - 15 * step, ly)
    touch(cdp, "touchEnd")
    turned = (state(page)["self"]["yaw"] - yaw0 + math.pi) % (2 * math.pi) - math.pi
    assert 0.3 < turned < 1.5, turned  # 120 px at pi/480 a px: ~0.79 rad, counter-clockwise
    assert state(page)["walkingTo"] is None  # a drag is not a tap
    # A tap on the floor still walks there.
    page.touchscreen.tap(lx - 60, ly)
    wait_state(page, "s.walkingTo !== null")

    # The sheet collapses to its button: the view gets the room; and expands again.
    view_h = page.locator("#view").bounding_box()["height"]
    page.tap("#sheet-toggle")
    assert page.get_attribute("#sheet-toggle", "aria-expanded") == "false"
    assert page.is_hidden("#service-panel") and page.is_hidden("#chat-panel")
    assert page.locator("#view").bounding_box()["height"] > view_h + 100
    assert not state(page)["sheet"]["expanded"]
    page.tap("#sheet-toggle")
    assert page.get_attribute("#sheet-toggle", "aria-expanded") == "true"
    assert page.is_visible("#service-panel") and page.is_visible("#chat-panel")
    assert page.locator("#view").bounding_box()["height"] == pytest.approx(view_h, abs=2)

    # Targets of 44 x 44 px with the citizen's panels showing.
    assert page.evaluate(TARGETS) == []

    # Take a ticket by tapping through the sheet.
    page.tap("#service-choices label:has(input[value=general])")
    assert page.is_checked("#service-choices input[value=general]")
    page.select_option("#service-lang", "en")
    page.tap("#service-take")
    s = wait_state(page, "s.ticket && s.ticket.status === 'waiting'")
    assert page.is_visible("#ticket-panel")
    assert page.text_content("#ticket-number") == s["ticket"]["ticket"]
    docs_screenshot(page, "phone")
    assert page.evaluate(TARGETS) == []
    assert axe_violations(page) == []
