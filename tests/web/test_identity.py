"""The citizen's pseudonymous identity, and a ticket nobody can serve yet, in the page.

A Playwright WebSocket route passes everything through between the page and the
real server and records each ``hello``, so the test sees what the page sends.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgpack

from server.identity import Keyring, TokenError
from tests.web.conftest import SECRET, Server, join

WAIT_MS = 20_000
RING = Keyring(SECRET)


class HelloRecorder:
    """The WebSocket route: records the page's hellos, changes nothing."""

    def __init__(self) -> None:
        self.hellos: list[dict[str, Any]] = []

    def setup(self, page: Any) -> None:
        page.route_web_socket(re.compile(r".*/ws$"), self.handle)

    def handle(self, ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(data: str | bytes) -> None:
            if isinstance(data, bytes):
                msg = msgpack.unpackb(data, raw=False)
                if isinstance(msg, dict) and msg.get("t") == "hello":
                    self.hellos.append(dict(msg))
            server.send(data)

        ws.on_message(from_page)
        server.on_message(lambda data: ws.send(data))


def stored_key(page: Any) -> Any:
    return page.evaluate("() => localStorage.getItem('servicepoint.citizen')")


def wait_key(page: Any, not_this: str | None = None) -> str:
    page.wait_for_function(
        "k => { const v = localStorage.getItem('servicepoint.citizen'); return v && v !== k; }",
        arg=not_this,
        timeout=WAIT_MS,
    )
    key = stored_key(page)
    assert isinstance(key, str)
    return key


def test_citizen_key_and_a_ticket_nobody_can_serve_yet(hall: Server, open_page: Any) -> None:
    recorder = HelloRecorder()
    page = open_page(base=hall.url, setup=recorder.setup)
    join(page, "Vilma")
    # The first hello has no key (none stored); the welcome's key is kept...
    assert len(recorder.hellos) == 1 and "citizen" not in recorder.hellos[0]
    key = wait_key(page)
    subject = RING.verify_citizen(key)
    # ...and never shown or logged.
    assert key not in page.content()
    assert key not in json.dumps(page.evaluate("() => window.servicepoint.state()"))

    # Later connections send it back, and stay the same pseudonymous citizen.
    page.reload()
    page.wait_for_function("() => window.servicepoint?.state().connected", timeout=WAIT_MS)
    assert len(recorder.hellos) == 2 and recorder.hellos[1].get("citizen") == key
    assert RING.verify_citizen(wait_key(page, None)) == subject

    # Nobody is on duty: no time, a sentence instead; the place is kept.
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
    page.select_option("#lang-select", "sv")
    assert "behåller din plats i kön" in page.text_content("#ticket-wait")
    logged = "\n".join(page.page_log.console)
    assert key not in logged


def test_a_tampered_key_is_refused_and_replaced(hall: Server, open_page: Any) -> None:
    forged = Keyring("not-the-servers-secret-0123456789").mint_citizen()[0]
    recorder = HelloRecorder()
    page = open_page(
        base=hall.url,
        setup=recorder.setup,
        init_script=f"localStorage.setItem('servicepoint.citizen', '{forged}');",
    )
    join(page, "Wendela")
    assert recorder.hellos[0].get("citizen") == forged
    fresh = wait_key(page, forged)
    RING.verify_citizen(fresh)  # a new identity the server minted
    try:
        RING.verify_citizen(forged)
        raise AssertionError("the forged key must not verify")
    except TokenError:
        pass
    assert page.evaluate("() => window.servicepoint.state().connected")
