"""The Q&A wall in real Chromium: the standalone page (qa.html) and the hall's board.

The server runs in this process (`running_server` on the agents' loop); citizens
and staff who seed the wall are `AgentClient`s speaking the protocol. Every wait
is for an event or a state, never for an amount of time.

* A citizen asks in Swedish, another answers, staff give the official answer; a
  third citizen types the same question in qa.html and sees the official answer
  (with its badge, the staff member's name and service) before posting, while
  a citizen's text imitating the badge stays plain text.
* A post with a personnummer (valid check digit) is held back: the page names
  the part and why, marks it in the field, and posts once it is edited out.
* axe-core finds nothing on the page: the search, a topic, the post form with
  a held message, "my data", in English and Japanese.
* Stable links: qa.html#/t/<id> shows the topic to anyone; a merged topic's
  link shows the canonical one with a note.
* In the hall: the board stands at world.qa_wall, opens the panel by keyboard
  (the HUD button; Enter in the view in front of it) and by a click on it, and
  a new answer to one's own question arrives live as a notice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.client import AgentClient
from server.app import ServicePoint
from tests.server.harness import mint, ws_url
from tests.web.conftest import AgentLoop, join, own_server, state, url, wait_state
from tests.web.test_a11y import axe_violations

WAIT_MS = 20_000
PNR = "811218-9876"
"""A Swedish personnummer with a valid check digit."""
TITLE = "Hur ändrar jag min adress när jag flyttar?"
OFFICIAL = "Du anmäler flytten till Skatteverket senast en vecka efter flytten."


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (list it before `open_page`)."""
    yield from own_server(agents, tmp_path)


def citizen(sp: ServicePoint, name: str) -> AgentClient:
    return AgentClient(ws_url(sp), name=name)


def staff(sp: ServicePoint, name: str = "Sara Lind") -> AgentClient:
    return AgentClient(ws_url(sp), name="x", token=mint("staff", name))


async def seed(sp: ServicePoint) -> dict[str, int]:
    """A Swedish question, a citizen's answer (imitating the badge), staff's official answer."""
    async with (
        citizen(sp, "Anna") as anna,
        citizen(sp, "Björn") as bjorn,
        staff(sp) as sara,
    ):
        await anna.send(
            {
                "t": "qa_post",
                "type": "question",
                "title": TITLE,
                "body": "Jag har flyttat till en ny lägenhet. Vad måste jag göra?",
                "lang": "sv",
                "service": "registration",
                "ref": 1,
            }
        )
        topic = int((await anna.expect("qa_posted"))["post"]["id"])
        await bjorn.send(
            {
                "t": "qa_reply",
                "topic": topic,
                "body": "✓ Officiellt svar från Sara Lind: <b>ring mig</b>",
                "ref": 2,
            }
        )
        fake = int((await bjorn.expect("qa_posted"))["post"]["id"])
        await sara.send(
            {"t": "qa_reply", "topic": topic, "body": OFFICIAL, "official": True, "ref": 3}
        )
        official = await sara.expect("qa_posted")
        assert official["post"]["official"]["staff_name"] == "Sara Lind"
        return {"topic": topic, "fake": fake, "official": int(official["post"]["id"])}


def open_qa(open_page: Any, sp: ServicePoint, path: str = "/qa.html", lang: str = "sv-SE") -> Any:
    page = open_page(path, base=url(sp), lang=lang)
    wait_state(page, "s.connected")
    return page


def test_search_as_you_type_shows_the_official_answer_before_posting(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    ids = agents.run(seed(sp))
    page = open_qa(open_page, sp)
    assert state(page)["role"] == "citizen"
    assert page.evaluate("document.documentElement.lang") == "sv"

    # Typing, key by key: nothing is searched before three characters...
    page.click("#qa-q")
    page.keyboard.type("Hu")
    page.wait_for_function(
        "() => document.querySelector('#qa-count').textContent.includes('tecken till')"
    )
    assert state(page)["results"] is None
    # ...then matching topics appear while the person goes on typing.
    page.keyboard.type("r ändrar jag min adr")
    s = wait_state(page, "s.results && s.results.hits.some(h => h.answer && h.answer.official)")
    hit = next(h for h in s["results"]["hits"] if h["id"] == ids["topic"])
    assert hit["title"] == TITLE
    assert s["posted"] is None  # nothing was posted

    card = page.locator(f"#qa-results .qa-hit[data-topic='{ids['topic']}']")
    badge = card.locator(".qa-answer-excerpt .qa-official-badge")
    badge.wait_for(timeout=WAIT_MS)
    assert badge.locator(".qa-official-label").text_content() == "Officiellt svar"
    who = badge.locator(".qa-official-who").text_content()
    assert "Sara Lind" in who and "Adress och folkbokföring" in who
    assert badge.locator("svg.qa-icon").count() == 1
    assert OFFICIAL in card.locator(".qa-answer-body").text_content()
    # The results are announced (a polite status), and "Nope, post my question" is there.
    assert page.get_attribute("#qa-count", "role") == "status"
    assert "ämne" in page.text_content("#qa-count")
    assert page.is_visible("#qa-continue-button")
    assert page.text_content("#qa-continue-button") == "Nej, publicera min fråga"

    # The topic: one official badge (the server's), the imitation is plain text.
    card.locator(".qa-hit-title a").click()
    wait_state(page, f"s.topic && s.topic.id === {ids['topic']} && s.replies.length === 2")
    assert page.evaluate("location.hash") == f"#/t/{ids['topic']}"
    assert page.evaluate("document.activeElement.id") == "qa-topic-title"
    assert page.locator("#qa-topic .qa-official-badge").count() == 1
    official = page.locator(f".qa-reply[data-post='{ids['official']}']")
    assert official.get_attribute("data-official") == "true"
    assert official.locator(".qa-official-badge").count() == 1
    fake = page.locator(f".qa-reply[data-post='{ids['fake']}']")
    assert fake.get_attribute("data-official") == "false"
    assert fake.locator(".qa-official-badge, b").count() == 0
    assert "<b>ring mig</b>" in fake.locator(".qa-body").text_content()
    # The official answer is shown above the others.
    order = page.eval_on_selector_all(".qa-reply", "els => els.map(e => Number(e.dataset.post))")
    assert order[0] == ids["official"]

    # "Nope, post my question" continues to the form with the title kept.
    page.click("a[data-nav=home]")
    page.fill("#qa-q", "Hur byter jag adress?")
    page.wait_for_selector("#qa-continue-button", state="visible", timeout=WAIT_MS)
    page.click("#qa-continue-button")
    wait_state(page, "s.view === 'post'")
    assert page.input_value("#qa-p-title") == "Hur byter jag adress?"
    assert page.evaluate("document.activeElement.id") == "qa-post-heading"


def test_a_personnummer_is_held_back_with_a_readable_message(
    sp: ServicePoint, open_page: Any
) -> None:
    page = open_qa(open_page, sp, "/qa.html#/post")
    wait_state(page, "s.view === 'post'")
    page.fill("#qa-p-title", "Flytt till Malmö")
    body = f"Hej! Mitt personnummer är {PNR} och jag har flyttat. Hur gör jag?"
    page.fill("#qa-p-body", body)
    page.select_option("#qa-p-service", "registration")
    page.click("#qa-p-submit")

    s = wait_state(page, "s.held")
    finding = s["held"]["findings"][0]
    assert finding["field"] == "body" and finding["kind"] == "personnummer"
    assert body[finding["start"] : finding["end"]] == PNR
    held = page.locator("#qa-post-held")
    assert held.is_visible() and held.get_attribute("role") == "alert"
    text = held.text_content()
    assert "Inte publicerat" in text
    assert f"I texten: ”{PNR}” ser ut som ett svenskt personnummer." in text
    # The part is marked in the field: selected there, and highlighted beside it.
    assert page.get_attribute("#qa-p-body", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "qa-p-body"
    selected = page.evaluate(
        "() => { const el = document.activeElement;"
        " return el.value.slice(el.selectionStart, el.selectionEnd); }"
    )
    assert selected == PNR
    assert page.text_content("#qa-p-body-mirror mark") == PNR
    assert state(page)["posted"] is None

    # The author edits the part away and posts: published, shown as a topic.
    page.fill("#qa-p-body", "Hej! Jag har flyttat. Hur gör jag?")
    assert page.get_attribute("#qa-p-body", "aria-invalid") is None
    page.click("#qa-p-submit")
    s = wait_state(page, "s.posted && s.topic && s.view === 'topic'")
    assert s["topic"]["title"] == "Flytt till Malmö"
    assert PNR not in json.dumps(s)
    assert page.text_content("#qa-topic-title") == "Flytt till Malmö"


def test_the_standalone_page_passes_axe(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    ids = agents.run(seed(sp))
    page = open_qa(open_page, sp, lang="en-US")
    wait_state(page, "s.results && s.results.hits.length > 0")  # the newest topics
    assert axe_violations(page) == [], "search page"

    page.fill("#qa-q", "adress")
    wait_state(page, "s.results && s.results.q === 'adress' && s.results.hits.length > 0")
    assert axe_violations(page) == [], "results"

    page.goto(f"{url(sp)}/qa.html#/t/{ids['topic']}")
    wait_state(page, f"s.connected && s.topic && s.topic.id === {ids['topic']}")
    page.click(f".qa-reply[data-post='{ids['fake']}'] button[data-action=flag]")
    page.wait_for_selector("#qa-flag-reason")
    assert axe_violations(page) == [], "topic with the report form"

    page.select_option("#qa-lang", "ja")
    page.wait_for_function("() => document.documentElement.lang === 'ja'")
    assert page.text_content(".qa-official-label") == "公式回答"
    assert axe_violations(page) == [], "topic, Japanese"

    page.click("a[data-nav=post]")
    wait_state(page, "s.view === 'post'")
    page.fill("#qa-p-title", "電話番号について")
    page.fill("#qa-p-body", "私の番号は 811218-9876 です")
    page.click("#qa-p-submit")
    wait_state(page, "s.held")
    assert "スウェーデンの個人識別番号" in page.text_content("#qa-post-held")
    assert axe_violations(page) == [], "held post, Japanese"

    page.click("a[data-nav=mine]")
    wait_state(page, "s.view === 'mine' && s.mine")
    assert axe_violations(page) == [], "my data, Japanese"


def test_stable_links_and_a_merged_topic(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    ids = agents.run(seed(sp))

    async def duplicate() -> int:
        async with citizen(sp, "Cecilia") as cecilia, staff(sp) as sara:
            await cecilia.send(
                {
                    "t": "qa_post",
                    "type": "question",
                    "title": "Adressändring vid flytt",
                    "body": "Hur anmäler jag ny adress?",
                    "lang": "sv",
                }
            )
            dup = int((await cecilia.expect("qa_posted"))["post"]["id"])
            await sara.send({"t": "qa_merge", "topic": dup, "into": ids["topic"]})
            await sara.send({"t": "ping", "n": 7})
            await sara.expect("pong", n=7)
            return dup

    dup = agents.run(duplicate())
    page = open_qa(open_page, sp, f"/qa.html#/t/{dup}", lang="en-US")
    s = wait_state(page, f"s.topic && s.topic.id === {ids['topic']}")
    assert s["redirectedFrom"] == dup
    assert page.evaluate("location.hash") == f"#/t/{ids['topic']}"
    note = page.text_content("#qa-merged-note")
    assert str(dup) in note and "merged" in note
    assert page.text_content("#qa-topic-title") == TITLE
    link = page.get_attribute(".qa-link-url", "href")
    assert link == f"#/t/{ids['topic']}"


def test_notices_export_and_erase_my_data(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    page = open_qa(open_page, sp, "/qa.html#/post", lang="en-US")
    page.fill("#qa-p-title", "Opening hours on Saturday")
    page.fill("#qa-p-body", "Is the service centre open on Saturdays?")
    page.click("#qa-p-submit")
    s = wait_state(page, "s.posted && s.view === 'topic'")
    topic = s["topic"]["id"]

    # An official answer arrives live: in the topic, and as a notice on the page.
    async def answer() -> None:
        async with staff(sp) as sara:
            await sara.send(
                {"t": "qa_reply", "topic": topic, "body": "No, Monday to Friday.", "official": True}
            )
            await sara.expect("qa_posted")

    agents.run(answer())
    wait_state(page, "s.replies.some(r => r.official)")
    page.wait_for_selector("#qa-page-notices li[data-notice=official]", timeout=WAIT_MS)
    assert "Opening hours on Saturday" in page.text_content("#qa-page-notices")
    assert page.locator("#qa-topic .qa-official-badge").count() == 1

    page.click("a[data-nav=mine]")
    wait_state(page, f"s.mine && s.mine.topics.includes({topic})")
    with page.expect_download() as download:
        page.click("#qa-export")
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert "Opening hours on Saturday" in json.dumps(data, ensure_ascii=False)

    page.click("#qa-erase")
    assert page.evaluate("document.activeElement.id") == "qa-erase-yes"
    page.click("#qa-erase-yes")
    s = wait_state(page, "s.erased")
    assert s["erased"]["posts"] >= 1
    assert page.evaluate("document.activeElement.id") == "qa-mine-erased"


# -- in the hall ------------------------------------------------------------------------


def test_the_board_in_the_hall_opens_the_panel_by_keyboard(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    ids = agents.run(seed(sp))
    page = open_page(base=url(sp))
    join(page, "Ida")
    s = wait_state(page, "s.qa.board.drawn")
    assert s["view"] == "3d" and s["qa"]["board"]["kind"] == "3d"
    assert (
        page.evaluate("() => window.servicepoint.state().qa.board.newest.length") >= 0
    )  # the wall's list comes with qa_wall
    wait_state(page, f"s.qa.board.newest.includes({json.dumps(TITLE)})")

    # The HUD button, by keyboard.
    page.focus("#qa-open")
    page.keyboard.press("Enter")
    page.wait_for_selector("#qa-dialog[open]", timeout=WAIT_MS)
    assert page.evaluate("document.activeElement.id") == "qa-home-heading"
    wait_state(page, "s.qa.open && s.qa.view.results")
    assert axe_violations(page) == [], "the Q&A panel in the hall"
    page.keyboard.press("Escape")
    page.wait_for_selector("#qa-dialog", state="hidden")
    assert page.evaluate("document.activeElement.id") == "qa-open"

    # "Walk to" the wall, then Enter in the view in front of it.
    page.focus("#places button[data-place=qa-wall]")
    page.keyboard.press("Enter")
    wait_state(page, "s.qa.near")
    assert page.is_visible("#qa-hud-near")
    page.focus("#view")
    page.keyboard.press("Enter")
    page.wait_for_selector("#qa-dialog[open]", timeout=WAIT_MS)
    page.fill("#qa-q", "adress")
    page.locator(f"#qa-results .qa-hit[data-topic='{ids['topic']}'] .qa-official-badge").wait_for(
        timeout=WAIT_MS
    )
    page.focus("#qa-close")
    page.keyboard.press("Enter")
    page.wait_for_selector("#qa-dialog", state="hidden")

    # A click on the board itself opens it too.
    point = steady_board_point(page)
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#qa-dialog[open]", timeout=WAIT_MS)


def test_a_new_answer_reaches_the_asker_live_in_the_hall(
    sp: ServicePoint, open_page: Any, agents: AgentLoop
) -> None:
    page = open_page(base=url(sp), lang="en-US")
    join(page, "Jon")
    page.click("#qa-open")
    page.click("#qa-dialog a[data-nav=post]")
    page.fill("#qa-p-title", "Can I renew my permit online?")
    page.fill("#qa-p-body", "My building permit runs out next month.")
    page.select_option("#qa-p-service", "permits")
    page.click("#qa-p-submit")
    s = wait_state(page, "s.qa.view.posted && s.qa.view.view === 'topic'")
    topic = s["qa"]["view"]["posted"]["id"]
    page.keyboard.press("Escape")
    page.wait_for_selector("#qa-dialog", state="hidden")

    async def answer() -> None:
        async with staff(sp, "Yuki Tanaka") as yuki:
            await yuki.send(
                {
                    "t": "qa_reply",
                    "topic": topic,
                    "body": "Yes, on the permits page.",
                    "official": True,
                }
            )
            await yuki.expect("qa_posted")

    agents.run(answer())
    s = wait_state(page, "s.qa.toasts.length > 0")
    assert s["qa"]["toasts"][0]["topic"] == topic
    toast = page.locator(".qa-toast").first
    assert "Can I renew my permit online?" in toast.text_content()
    assert page.get_attribute("#qa-toast-live", "role") == "status"
    toast.locator("button[data-action=show]").click()
    s = wait_state(page, "s.qa.open && s.qa.view.topic && s.qa.view.replies.length === 1")
    assert page.locator("#qa-dialog .qa-official-badge").count() == 1


class ShiftedClock:
    """The real clocks, with wall time moved forward on request (answer targets)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic()


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
def clocked(tmp_path: Path, agents: AgentLoop, clock: ShiftedClock) -> Iterator[ServicePoint]:
    """A server of the test's own on a clock the test moves (list it before `open_page`)."""
    yield from own_server(agents, tmp_path, clock=clock)


def test_staff_answer_officially_and_see_overdue_questions_first(
    clocked: ServicePoint, clock: ShiftedClock, agents: AgentLoop, open_page: Any
) -> None:
    sp = clocked
    asker = citizen(sp, "Greta")
    try:
        agents.run(asker.connect())

        async def ask(title: str) -> int:
            await asker.send(
                {
                    "t": "qa_post",
                    "type": "question",
                    "title": title,
                    "body": title,
                    "lang": "en",
                    "service": "general",
                }
            )
            return int((await asker.expect("qa_posted", timeout=10))["post"]["id"])

        old = agents.run(ask("Where do I park my bicycle?"))
        clock.offset = 3 * 86400.0  # past the answer target of the first question
        asker.messages.clear()

        async def second() -> int:
            async with citizen(sp, "Hans") as hans:
                await hans.send(
                    {
                        "t": "qa_post",
                        "type": "question",
                        "title": "Is there a lift to the hall?",
                        "body": "I use a wheelchair.",
                        "lang": "en",
                        "service": "general",
                    }
                )
                return int((await hans.expect("qa_posted"))["post"]["id"])

        new = agents.run(second())

        token = mint("staff", "Sara Lind")
        # A token in the link signs no one in: the page connects as a visitor.
        page = open_page(f"/qa.html#token={token}", base=url(sp), lang="en-US")
        s = wait_state(page, "s.connected && s.session.loaded")
        assert s["role"] == "citizen" and s["auth"] is None
        assert page.evaluate("sessionStorage.getItem('servicepoint.qa.token')") is None
        # No identity provider here: no "Staff sign-in" link; the development form instead.
        assert page.is_hidden("#qa-signin-link") and page.is_hidden("#qa-signout-link")
        page.click("#qa-dev-signin summary")
        page.fill("#qa-token", token)
        page.click("#qa-signin-submit")
        s = wait_state(page, "s.connected && s.role === 'staff'")
        assert s["auth"] == "token" and page.input_value("#qa-token") == ""
        assert page.text_content("#qa-signed-in") == "Signed in as Staff."
        page.evaluate("location.hash = '#/'")
        page.click("a[data-nav=queue]")
        s = wait_state(page, "s.queue && s.queue.waiting.length === 2")
        assert s["queue"]["waiting"] == [old, new]  # overdue first
        items = page.locator("#qa-queue-list .qa-hit")
        assert items.nth(0).get_attribute("data-overdue") == "true"
        assert items.nth(0).locator(".qa-overdue-badge").text_content() == "Overdue"
        assert items.nth(1).get_attribute("data-overdue") == "false"
        assert axe_violations(page) == [], "staff queue"

        # The official answer, given with the checkbox.
        items.nth(0).locator(".qa-hit-title a").click()
        wait_state(page, f"s.topic && s.topic.id === {old}")
        page.fill("#qa-r-body", "Bicycle stands are by the main entrance.")
        page.check("#qa-r-official")
        page.click("#qa-r-submit")
        s = wait_state(page, "s.replies.some(r => r.official)")
        badge = page.locator("#qa-topic .qa-reply .qa-official-badge")
        assert badge.count() == 1
        assert (
            badge.locator(".qa-official-who").text_content() == "from Sara Lind, General enquiries"
        )
        notice = agents.run(asker.expect("qa_notice", kind="official"))
        assert notice["topic"] == old
        page.click("#qa-topic summary")  # staff tools
        assert axe_violations(page) == [], "topic with staff tools"

        # Moderation: hide with a reason; the author is told.
        page.click("#qa-topic article.qa-topic button[data-action=hide]")
        page.fill("#qa-mod-reason", "Answered elsewhere")
        page.click("button[data-key=mod-send]")
        notice = agents.run(asker.expect("qa_notice", kind="hidden"))
        assert notice["reason"] == "Answered elsewhere"
        assert axe_violations(page) == [], "topic with a hidden post"

        # In the hall, the staff console lists the waiting questions too.
        hall = open_page(f"/?token={token}", base=url(sp), lang="en-US")
        join(hall, "Sara Lind")
        s = wait_state(hall, "s.qa.console && s.qa.console.waiting.length >= 1")
        assert hall.is_visible("#qa-staff")
        assert s["qa"]["console"]["waiting"][0]["id"] == new
    finally:
        agents.run(asker.close())


def steady_board_point(page: Any) -> dict[str, float]:
    """Where the board is on screen once the map has stopped moving (it settles on the
    avatar after joining; on a starved machine a click aimed at a moving map misses)."""
    last: dict[str, float] | None = None
    for _ in range(50):
        point: dict[str, float] = page.evaluate("window.servicepoint.qaBoardPoint()")
        if point == last:
            return point
        last = point
        page.wait_for_timeout(200)
    raise AssertionError(f"the map never stopped moving: {last}")


def test_the_map_view_marks_the_wall_and_opens_it(
    sp: ServicePoint, open_page: Any, browser_without_webgl: Any
) -> None:
    page = open_page(base=url(sp), on=browser_without_webgl, lang="de-DE")
    join(page, "Uwe")
    s = wait_state(page, "s.qa.board.drawn")
    assert s["view"] == "2d" and s["qa"]["board"]["kind"] == "2d"
    point = steady_board_point(page)
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#qa-dialog[open]", timeout=WAIT_MS)
    assert page.text_content("#qa-dialog-heading") == "Fragen und Antworten"
    assert axe_violations(page) == [], "the Q&A panel over the map"
