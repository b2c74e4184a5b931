"""The web client in real Chromium against the real server.

Two pages join, one walks with the keyboard, the other sees it move; zone chat
typed with the keyboard reaches the other page; staff tokens show a badge; the
page works without WebGL (2D map). Console errors fail any test (see conftest).
Nothing here asserts a duration: every wait polls with a generous timeout.
"""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Server, join, state

WAIT_MS = 15_000


def wait_sees(page: Any, other_id: int) -> dict[str, Any]:
    page.wait_for_function(
        "id => String(id) in window.servicepoint.state().others", arg=other_id, timeout=WAIT_MS
    )
    seen: dict[str, Any] = state(page)["others"][str(other_id)]
    return seen


def hold_key(page: Any, key: str, seconds: float) -> None:
    page.keyboard.down(key)
    page.wait_for_timeout(seconds * 1000)
    page.keyboard.up(key)


def test_two_pages_see_each_other_move(open_page: Any) -> None:
    a = open_page()
    b = open_page()
    a_id = join(a, "Astrid")["selfId"]
    b_id = join(b, "Bengt", avatar="box")["selfId"]
    assert a_id != b_id

    before = wait_sees(b, a_id)
    assert before["name"] == "Astrid"
    assert wait_sees(a, b_id)["name"] == "Bengt"

    # Walk with the keyboard: focus the hall view, hold the up arrow, then W.
    a.focus("#view")
    hold_key(a, "ArrowUp", 0.8)
    hold_key(a, "w", 0.4)
    moved = state(a)["self"]
    assert abs(moved["x"] - before["x"]) + abs(moved["z"] - before["z"]) > 1.0

    b.wait_for_function(
        """([id, x, z]) => {
            const o = window.servicepoint.state().others[id];
            return o && Math.hypot(o.x - x, o.z - z) > 1.0;
        }""",
        arg=[str(a_id), before["x"], before["z"]],
        timeout=WAIT_MS,
    )
    # B ends up seeing A where A thinks it is (to the centimetre quantisation).
    b.wait_for_function(
        """([id, x, z]) => {
            const o = window.servicepoint.state().others[id];
            return o && Math.hypot(o.x - x, o.z - z) < 0.1;
        }""",
        arg=[str(a_id), moved["x"], moved["z"]],
        timeout=WAIT_MS,
    )


def test_zone_chat_typed_with_the_keyboard(open_page: Any, server: Server) -> None:
    a = open_page(f"/?token={server.token('staff', 'Alice')}")
    b = open_page()
    a_state = join(a, "Alice")
    assert a_state["role"] == "staff"
    b_id = join(b, "Bo")["selfId"]
    wait_sees(b, a_state["selfId"])
    wait_sees(a, b_id)
    assert state(b)["others"][str(a_state["selfId"])]["role"] == "staff"
    # The token left the address bar once read.
    assert "token=" not in a.url

    # Keyboard only: the scope radios are one tab stop; arrows choose, Tab moves on.
    a.focus("#chat-form input[name=scope][value=near]")
    a.keyboard.press("ArrowRight")
    assert a.is_checked("#chat-form input[name=scope][value=zone]")
    a.keyboard.press("Tab")
    assert a.evaluate("document.activeElement.id") == "chat-input"
    where = state(a)["self"]
    # Letters that walk when the view has focus must type when the input has it.
    line = "Hello from the desk, wasd and arrows stay here"
    a.keyboard.type(line)
    a.keyboard.press("ArrowLeft")
    a.keyboard.press("Enter")
    assert state(a)["self"] == where

    b.wait_for_function(
        "text => document.querySelector('#chat-lines').textContent.includes(text)",
        arg=line,
        timeout=WAIT_MS,
    )
    entry = next(e for e in state(b)["chatLog"] if e["text"] == line)
    assert entry["scope"] == "zone" and entry["role"] == "staff"
    assert a.input_value("#chat-input") == ""

    # Staff may also announce; citizens are not offered the choice.
    assert b.is_hidden("#scope-announce")
    a.focus("#chat-form input[name=scope][value=zone]")
    a.keyboard.press("ArrowRight")
    assert a.is_checked("#chat-form input[name=scope][value=announce]")
    a.keyboard.press("Tab")
    a.keyboard.type("The hall closes at 16:00")
    a.keyboard.press("Enter")
    b.wait_for_function(
        "() => document.querySelector('#chat-lines .chat-announce')?.textContent.includes('16:00')",
        timeout=WAIT_MS,
    )
    assert any(e["kind"] == "announce" for e in state(b)["chatLog"])


def test_click_to_move_and_places(open_page: Any) -> None:
    a = open_page()
    join(a, "Clara", avatar="tall")
    start = state(a)["self"]
    # "Walk to" buttons are ordinary buttons: activate one with the keyboard.
    a.focus("#places button[data-place=desk-1]")
    a.keyboard.press("Enter")
    a.wait_for_function(
        """([x, z]) => { const s = window.servicepoint.state().self;
                         return Math.hypot(s.x - x, s.z - z) > 2; }""",
        arg=[start["x"], start["z"]],
        timeout=WAIT_MS,
    )
    # Click the floor in the middle of the view: the avatar starts walking there.
    here = state(a)["self"]
    box = a.locator("#view").bounding_box()
    a.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.9)
    a.wait_for_function(
        """([x, z]) => { const s = window.servicepoint.state().self;
                         return Math.hypot(s.x - x, s.z - z) > 0.3; }""",
        arg=[here["x"], here["z"]],
        timeout=WAIT_MS,
    )


def test_works_without_webgl(open_page: Any, browser_without_webgl: Any) -> None:
    a = open_page(on=browser_without_webgl)
    assert state(a)["view"] == "2d"
    assert a.is_visible("#view-fallback")
    start = join(a, "Dora")["self"]
    a.focus("#view")
    hold_key(a, "ArrowUp", 0.6)
    moved = state(a)["self"]
    assert abs(moved["x"] - start["x"]) + abs(moved["z"] - start["z"]) > 0.5


def test_resume_after_reload_keeps_the_avatar(open_page: Any) -> None:
    a = open_page()
    first = join(a, "Erik")["selfId"]
    a.reload()
    a.wait_for_function("() => window.servicepoint?.state().connected", timeout=WAIT_MS)
    assert state(a)["selfId"] == first
    assert a.is_hidden("#join-panel")


def test_reconnects_after_a_server_restart(open_page: Any, tmp_path: Any) -> None:
    """Graceful shutdown closes with 'going away'; the page retries with backoff,
    and once a server is back on the same address and data it is in the hall again."""
    from tests.web.conftest import ServerProcess

    proc = ServerProcess(tmp_path)
    srv = proc.start()
    try:
        # While the server is down Chromium itself logs the refused connections.
        page = open_page(base=srv.url, allow=("WebSocket connection to", "ERR_CONNECTION_REFUSED"))
        join(page, "Frida")
        proc.stop()
        page.wait_for_function(
            "() => window.servicepoint.state().state === 'reconnecting'", timeout=WAIT_MS
        )
        assert page.get_attribute("#status", "data-state") == "reconnecting"
        proc.start()
        page.wait_for_function("() => window.servicepoint.state().connected", timeout=30_000)
        assert page.is_hidden("#join-panel")
        # The avatar is back under the same name, and others can see it again.
        other = open_page(base=srv.url)
        join(other, "Gustav")
        me = state(page)["selfId"]
        assert wait_sees(other, me)["name"] == "Frida"
        # Close the pages before the server goes, or they would retry (and log) again.
        page.context.close()
        other.context.close()
    finally:
        proc.stop()


def test_vr_button_only_where_immersive_vr_is_supported(open_page: Any) -> None:
    plain = open_page()
    join(plain, "Hanna")
    assert plain.is_hidden("#vr-button")

    # A browser that says it supports immersive VR gets the (translated) button.
    vr = open_page(lang="sv-SE", init_script=FAKE_XR)
    vr.wait_for_selector("#vr-button", state="visible", timeout=WAIT_MS)
    assert vr.text_content("#vr-button") == "Starta VR"
    vr.select_option("#lang-select", "de")
    assert vr.text_content("#vr-button") == "VR starten"


FAKE_XR = """
Object.defineProperty(navigator, 'xr', { configurable: true, value: {
  isSessionSupported: async (mode) => mode === 'immersive-vr',
  requestSession: () => new Promise(() => {}),
  addEventListener() {}, removeEventListener() {},
}});
"""


def test_removed_by_a_host_with_a_reason(open_page: Any, server: Server, agents: Any) -> None:
    """A host kicks: the server says `bye` (the reason) and closes with KICKED;
    the join form says why, and the page does not reconnect."""
    from agents.client import AgentClient
    from server.identity import Keyring
    from tests.web.conftest import SECRET

    page = open_page(lang="de-DE")
    me = join(page, "Karl")["selfId"]
    host = AgentClient(server.ws_url, name="Host", token=Keyring(SECRET).mint("host", "Hanne"))
    try:
        agents.run(host.connect())
        agents.run(host.send({"t": "kick", "id": me, "reason": "Bitte freundlich bleiben"}))
        page.wait_for_function(
            "() => window.servicepoint.state().state === 'closed'", timeout=WAIT_MS
        )
    finally:
        agents.run(host.close())
    assert page.is_visible("#join-panel")
    text = page.text_content("#join-error")
    assert text.startswith("Sie wurden von der Moderation entfernt.")
    assert "„Bitte freundlich bleiben“" in text
    assert state(page)["chatLog"] == []
