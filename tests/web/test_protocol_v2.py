"""What protocol version 2 adds, handled by the page, against today's server.

A Playwright WebSocket route stands between the page and the server and plays a
version 2 server: `welcome` carries a citizen key, `ticket` may lack `wait_s`
(nobody on duty can serve it now), and an `error` may be `bad_citizen_key`.
The page is served a catalogue with those fields (as the regenerated one will
have them); the route takes `hello.citizen` out again before today's server,
which refuses fields it does not know, sees it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgpack

from tests.web.conftest import Server, join

WAIT_MS = 20_000
KEY = "cz1.test-citizen-key.7f3a9c"
OPTIONAL_KEY = {"kind": "str", "required": False, "min_len": 1, "max_len": 512}


def v2_catalogue(route: Any) -> None:
    response = route.fetch()
    text = response.text()
    start, end = text.index("{"), text.rindex("}") + 1
    catalogue = json.loads(text[start:end])
    catalogue["client"]["hello"]["fields"]["citizen"] = OPTIONAL_KEY
    catalogue["server"]["welcome"]["fields"]["citizen"] = OPTIONAL_KEY
    catalogue["server"]["ticket"]["fields"]["wait_s"]["required"] = False
    body = text[:start] + json.dumps(catalogue) + text[end:]
    route.fulfill(response=response, body=body)


class V2Server:
    """The WebSocket route: records hellos, rewrites what the server says."""

    def __init__(self) -> None:
        self.hellos: list[dict[str, Any]] = []
        self.page_ws: Any = None

    def setup(self, page: Any) -> None:
        page.route(re.compile(r".*/src/protocol/catalogue\.js$"), v2_catalogue)
        page.route_web_socket(re.compile(r".*/ws$"), self.handle)

    def handle(self, ws: Any) -> None:
        self.page_ws = ws
        server = ws.connect_to_server()

        def from_page(data: str | bytes) -> None:
            if isinstance(data, bytes):
                msg = msgpack.unpackb(data, raw=False)
                if isinstance(msg, dict) and msg.get("t") == "hello":
                    self.hellos.append(dict(msg))
                    msg.pop("citizen", None)
                    data = msgpack.packb(msg)
            server.send(data)

        def from_server(data: str | bytes) -> None:
            if isinstance(data, bytes):
                msg = msgpack.unpackb(data, raw=False)
                if isinstance(msg, dict) and msg.get("t") == "welcome":
                    msg["citizen"] = KEY
                    data = msgpack.packb(msg)
                elif isinstance(msg, dict) and msg.get("t") == "ticket":
                    msg.pop("wait_s", None)
                    data = msgpack.packb(msg)
            ws.send(data)

        ws.on_message(from_page)
        server.on_message(from_server)

    def send_to_page(self, msg: dict[str, Any]) -> None:
        self.page_ws.send(msgpack.packb(msg))


def stored_key(page: Any) -> Any:
    return page.evaluate("() => localStorage.getItem('servicepoint.citizen')")


def test_citizen_key_and_a_ticket_nobody_can_serve_yet(hall: Server, open_page: Any) -> None:
    v2 = V2Server()
    page = open_page(base=hall.url, setup=v2.setup)
    join(page, "Vilma")
    # The first hello has no key (none stored); the welcome's key is kept.
    assert len(v2.hellos) == 1 and "citizen" not in v2.hellos[0]
    page.wait_for_function(
        "k => localStorage.getItem('servicepoint.citizen') === k", arg=KEY, timeout=WAIT_MS
    )
    # ...and never shown or logged.
    assert KEY not in page.content()
    assert KEY not in json.dumps(page.evaluate("() => window.servicepoint.state()"))

    # Later connections send it back.
    page.reload()
    page.wait_for_function("() => window.servicepoint?.state().connected", timeout=WAIT_MS)
    assert len(v2.hellos) == 2 and v2.hellos[1].get("citizen") == KEY

    # A ticket without wait_s: no time, a sentence instead; the place is kept.
    page.check("#service-choices input[value=general]")
    page.click("#service-take")
    page.wait_for_function(
        "() => window.servicepoint.state().ticket?.status === 'waiting'", timeout=WAIT_MS
    )
    assert "wait_s" not in page.evaluate("() => window.servicepoint.state().ticket")
    assert page.text_content("#ticket-wait") == (
        "No staff member for this service is on duty right now. You keep your place in the queue."
    )
    assert page.text_content("#ticket-position") == "1 (you are next)"
    page.wait_for_function(
        "() => document.querySelector('#ticket-live').textContent.includes('no staff member')",
        timeout=WAIT_MS,
    )
    page.select_option("#lang-select", "sv")
    assert "behåller din plats i kön" in page.text_content("#ticket-wait")

    # bad_citizen_key: the key is forgotten, and the next hello goes without one.
    v2.send_to_page({"t": "error", "code": "bad_citizen_key", "msg": "unknown citizen key"})
    page.wait_for_function(
        "() => localStorage.getItem('servicepoint.citizen') === null", timeout=WAIT_MS
    )
    page.wait_for_function(
        "() => document.querySelector('#chat-lines').textContent.includes('besöksnyckeln')",
        timeout=WAIT_MS,
    )
    page.reload()
    page.wait_for_function("() => window.servicepoint?.state().connected", timeout=WAIT_MS)
    assert len(v2.hellos) == 3 and "citizen" not in v2.hellos[2]
    logged = "\n".join(page.page_log.console)
    assert KEY not in logged


def test_without_a_v2_catalogue_no_key_is_sent(open_page: Any) -> None:
    """A key left from a newer server is not sent to a server that does not know it."""
    page = open_page(init_script=f"localStorage.setItem('servicepoint.citizen', '{KEY}');")
    state = join(page, "Wendela")
    assert state["connected"]
    assert stored_key(page) == KEY
