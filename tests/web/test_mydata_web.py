"""The citizen's "My data" dialog in real Chromium: a download of their data, then erasure.

The server runs in this process (`own_server` on the agents' loop), so the test
reads the chat and desk stores after the erasure. The citizen is the browser
page: it posts a zone chat line and takes a ticket, opens "My data" by keyboard,
downloads the export (a real file download), and erases it with the second
confirmation. No assertion is about time: every wait is for an event or a state.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest

from server.app import ServicePoint
from tests.server.harness import KEYRING, mint
from tests.web.conftest import AgentLoop, join, own_server, state, url, wait_state
from tests.web.test_a11y import axe_violations

WAIT_MS = 20_000


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (list it before `open_page`)."""
    yield from own_server(agents, tmp_path)


def citizen_key(page: Any) -> Any:
    return page.evaluate("() => localStorage.getItem('servicepoint.citizen')")


def wait_new_key(page: Any, not_this: str | None = None) -> str:
    page.wait_for_function(
        "k => { const v = localStorage.getItem('servicepoint.citizen'); return v && v !== k; }",
        arg=not_this,
        timeout=WAIT_MS,
    )
    key = citizen_key(page)
    assert isinstance(key, str)
    return key


def focused(page: Any) -> str:
    element_id: str = page.evaluate("() => document.activeElement?.id ?? ''")
    return element_id


async def _held(sp: ServicePoint) -> str:
    """The chat's zone histories and the desks' event log, as text."""
    chat = sp.store.keyspace("chat")
    lines = [
        msgpack.unpackb(raw, raw=False)
        for key in await chat.scan("zone:*")
        for raw in await chat.slice(key)
    ]
    queue = [fields for _id, fields in await sp.store.keyspace("desks").read("queue")]
    return json.dumps({"chat": lines, "queue": queue}, ensure_ascii=False)


def held_once(agents: AgentLoop, sp: ServicePoint, absent: list[str]) -> str:
    """The stores' text once none of ``absent`` is in it (the close's own pass may lag)."""

    async def poll() -> str:
        while True:
            text = await _held(sp)
            if not any(needle in text for needle in absent):
                return text
            await asyncio.sleep(0.05)

    result: str = agents.run(poll(), timeout=20)
    return result


def test_my_data_download_then_erase(sp: ServicePoint, open_page: Any, agents: AgentLoop) -> None:
    tag = "T" + uuid.uuid4().hex[:10]
    page = open_page(base=url(sp))
    join(page, f"Ada {tag}")  # the name is in the chat line and the queue's log
    key = wait_new_key(page)
    subject = "citizen:" + KEYRING.verify_citizen(key)
    assert page.is_visible("#mydata-button")
    assert not state(page)["mydata"]["open"]

    # Leave something: a zone chat line and a queue ticket, through the page.
    page.check("#chat-form input[name=scope][value=zone]")
    page.fill("#chat-input", f"moving house {tag}")
    page.press("#chat-input", "Enter")
    page.wait_for_function(
        "tag => document.getElementById('chat-lines').textContent.includes(tag)", arg=tag
    )
    page.check("#service-choices input[value=general]")
    page.click("#service-take")
    wait_state(page, "s.ticket && s.ticket.status === 'waiting'")
    before = agents.run(_held(sp))
    assert before.count(tag) >= 3 and subject in before  # name and text of the line, the ticket

    # Open "My data" by keyboard: a modal dialog with the focus on its heading.
    page.focus("#mydata-button")
    page.keyboard.press("Enter")
    wait_state(page, "s.mydata.open")
    assert focused(page) == "mydata-heading"
    assert page.get_attribute("#mydata-dialog", "aria-labelledby") == "mydata-heading"
    page.keyboard.press("Tab")
    assert focused(page) == "mydata-close"
    page.keyboard.press("Tab")
    assert focused(page) == "mydata-download"

    # Download: the parts joined are one JSON document holding this citizen's data.
    with page.expect_download(timeout=WAIT_MS) as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename == "servicepoint-my-data.json"
    text = Path(download.path()).read_text(encoding="utf-8")
    data = json.loads(text)
    assert [line["text"] for line in data["chat"]["chat_lines"]] == [f"moving house {tag}"]
    assert [t["service"] for t in data["desks"]["tickets"]] == ["general"], data["desks"]
    assert data["identity"]["verified"] is False
    assert subject not in text and key not in text  # the raw pseudonym is never in it
    s = wait_state(page, "s.mydata.state === 'ready'")
    assert s["mydata"]["summary"]["chat"]["chat_lines"] == 1
    assert s["mydata"]["summary"]["desks"]["tickets"] == 1
    assert page.text_content("#mydata-summary-heading") == "Kept about you: 2 records in 2 sections"
    lines = page.eval_on_selector_all(
        "#mydata-summary-list li", "els => els.map(e => e.textContent)"
    )
    assert lines[:2] == ["Chat — chat_lines: 1 record", "Queue and desks — tickets: 1 record"]
    assert lines[2].startswith("Nothing about you in: ") and "Events" in lines[2]
    assert axe_violations(page) == []

    # Erase: the first step opens the confirmation; without "I understand" nothing is sent.
    page.focus("#mydata-erase")
    page.keyboard.press("Enter")
    wait_state(page, "s.mydata.state === 'confirming'")
    assert focused(page) == "mydata-understand"
    page.focus("#mydata-erase-confirm")
    page.keyboard.press("Enter")
    s = wait_state(page, "s.mydata.error === 'tick'")
    assert s["mydata"]["state"] == "confirming" and s["connected"]
    assert page.text_content("#mydata-erase-error") == "Tick “I understand” to erase your data."
    assert focused(page) == "mydata-understand"
    assert page.get_attribute("#mydata-understand", "aria-invalid") == "true"
    assert axe_violations(page) == []
    page.keyboard.press("Space")
    assert page.is_checked("#mydata-understand")
    page.focus("#mydata-erase-confirm")
    page.keyboard.press("Enter")

    # my_data_erased, then the close 4011: the key is forgotten, the dialog says what was done.
    s = wait_state(page, "s.mydata.state === 'erased' && s.state === 'closed'")
    erased = s["mydata"]["erased"]
    assert erased["removed"] >= 1 and erased["removed"] + erased["anonymised"] >= 2
    assert citizen_key(page) is None
    assert page.evaluate("() => sessionStorage.getItem('servicepoint.session')") is None
    # (a survey for the ticket the erasure gave up may open above it and close with the hall)
    page.wait_for_function("() => document.activeElement?.id === 'mydata-erased'")
    assert page.text_content("#mydata-erased").startswith("Your data was erased:")
    assert axe_violations(page) == []

    # The store no longer holds it: the line is gone, the queue's statistic kept anonymised.
    held = held_once(agents, sp, [tag, subject, subject.removeprefix("citizen:")])
    assert '"type": "arrived"' in held  # the ticket's record stays, without the citizen

    # Escape closes the dialog; the button is gone with the hall, the focus is on the join form.
    page.keyboard.press("Escape")
    wait_state(page, "!s.mydata.open && !s.mydata.available")
    page.wait_for_function("() => document.activeElement?.id === 'join-name'")
    assert "Your data was erased." in page.text_content("#join-error")

    # Joining again: a new pseudonym.
    page.click("#join-submit")
    page.wait_for_function("() => window.servicepoint.state().connected", timeout=WAIT_MS)
    again = wait_new_key(page, key)
    assert KEYRING.verify_citizen(again) != subject.removeprefix("citizen:")
    assert page.is_visible("#mydata-button")


def test_staff_have_no_my_data_button(sp: ServicePoint, open_page: Any) -> None:
    """my_data is for citizens only (others get `forbidden`): staff do not see the button."""
    staff = open_page(f"/?token={mint('staff', 'Sara Lind')}", base=url(sp))
    s = join(staff, "Sara Lind")
    assert s["role"] == "staff"
    assert staff.is_visible("#staff-panel") and staff.is_hidden("#mydata-button")
    assert state(staff)["mydata"]["available"] is False
