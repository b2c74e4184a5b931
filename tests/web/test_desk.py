"""The live service at desks in real Chromium: kiosk, queue display, call, staff console, voice.

Every test gets its own server (a fresh queue: ticket numbers start at 001 and
no ticket of another test is "longest waiting"). Staff are either a page with a
staff token or an `AgentClient` (with an aiortc `VoicePeer` for voice) run on
a background asyncio loop. No assertion is about time: every wait polls with a
generous timeout, and console errors fail the test (see conftest).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agents.client import AgentClient
from agents.voice_peer import VoicePeer, describe
from server.identity import Keyring
from tests.web.conftest import SECRET, AgentLoop, Server, join, state

WAIT_MS = 20_000


def wait_state(page: Any, condition: str, timeout: int = WAIT_MS) -> dict[str, Any]:
    """Poll until `condition` (a JS expression over `s`, the state) holds; return the state."""
    page.wait_for_function(
        f"() => {{ const s = window.servicepoint.state(); return Boolean({condition}); }}",
        timeout=timeout,
    )
    return state(page)


def staff_agent(hall: Server, name: str = "Sara Lind") -> AgentClient:
    return AgentClient(hall.ws_url, name="ignored", token=Keyring(SECRET).mint("staff", name))


async def on_duty(client: AgentClient, desk: str = "desk-2") -> None:
    await client.connect()
    await client.send({"t": "duty", "status": "available", "desk": desk})
    duty = await client.expect("duty")
    assert duty["status"] == "available" and duty["desk"] == desk


async def call_next(client: AgentClient) -> dict[str, Any]:
    await client.send({"t": "call_next"})
    case: dict[str, Any] = await client.expect("case", timeout=15)
    return case


def voice_stats(page: Any, ok: Callable[[Any], bool], timeout_s: float = 30.0) -> Any:
    """Poll the page's WebRTC stats (a promise, so not wait_for_function) until `ok`."""
    deadline = time.monotonic() + timeout_s
    while True:
        stats = page.evaluate("window.servicepoint.voiceStats()")
        if ok(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"stats never matched: {stats}")
        page.wait_for_timeout(250)


def take_ticket_with_clicks(page: Any, service: str = "general", lang: str = "en") -> None:
    page.check(f"#service-choices input[value={service}]")
    page.select_option("#service-lang", lang)
    page.click("#service-take")
    wait_state(page, "s.ticket && s.ticket.status === 'waiting'")


def test_kiosk_ticket_and_call_by_keyboard(hall: Server, open_page: Any, agents: AgentLoop) -> None:
    page = open_page(base=hall.url)
    join(page, "Ada")
    start = state(page)["self"]
    offered = "#service-choices input", "els => els.map(e => e.value)"
    # Away from the desks, the picker offers every service.
    assert page.eval_on_selector_all(*offered) == ["general", "registration", "benefits", "permits"]

    # "Walk to" the Registration desk with the keyboard: its ticket kiosk opens.
    page.focus("#places button[data-place=desk-2]")
    page.keyboard.press("Enter")
    wait_state(page, "s.kiosk === 'desk-2'")
    assert "Registration" in page.text_content("#kiosk-title")
    assert page.eval_on_selector_all(*offered) == ["registration", "general"]  # this desk's
    # "Show all services" goes back to the picker; Walk to opens the kiosk again.
    page.click("#kiosk-all")
    wait_state(page, "s.kiosk === null")
    assert len(page.eval_on_selector_all(*offered)) == 4
    page.click("#places button[data-place=desk-2]")
    wait_state(page, "s.kiosk === 'desk-2'")

    # Arrows choose within the radio group (and do not walk), Tab moves on.
    page.focus("#service-choices input:checked")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("#service-choices input[value=general]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "service-lang"
    assert page.input_value("#service-lang") == "en"  # the UI language is offered
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "service-take"
    page.keyboard.press("Enter")

    s = wait_state(page, "s.ticket && s.ticket.status === 'waiting'")
    assert s["ticket"]["ticket"] == "A-001" and s["ticket"]["position"] == 1
    assert page.text_content("#ticket-number") == "A-001"
    assert page.text_content("#ticket-position").startswith("1")
    assert page.is_visible("#ticket-wait") and page.text_content("#ticket-wait")
    assert page.is_hidden("#service-panel")  # one ticket at a time
    # The focus followed the ticket, not lost with the hidden kiosk.
    assert page.evaluate("document.activeElement.id") == "ticket-heading"
    # Meanwhile the avatar walks towards the desk.
    wait_state(page, f"Math.abs(s.self.x - ({start['x']})) > 1")

    sara = staff_agent(hall)
    try:
        agents.run(on_duty(sara))
        case = agents.run(call_next(sara))
        assert case["ticket"] == "A-001" and case["name"] == "Ada"

        page.wait_for_selector("#called-panel", state="visible", timeout=WAIT_MS)
        page.wait_for_function(
            "() => document.querySelector('#called-text').textContent.includes('Registration')",
            timeout=WAIT_MS,
        )
        assert "A-001" in page.text_content("#called-text")
        assert page.get_attribute("#called-text", "aria-live") == "assertive"
        s = state(page)
        assert s["called"]["desk"] == "desk-2" and s["called"]["remaining_s"] > 0
        assert s["ticket"]["status"] == "called"
        assert "seconds" in page.text_content("#called-countdown")

        # "Walk me there" sets off (around walls) to the spot in front of the desk.
        page.click("#places button[data-place=entrance]")
        wait_state(page, "s.walkingTo && s.walkingTo.x < -40")
        page.click("#called-walk")
        s = wait_state(page, "s.walkingTo && s.walkingTo.x > -40")
        assert abs(s["walkingTo"]["x"] - s["called"]["x"]) < 0.01
        assert abs(s["walkingTo"]["z"] - s["called"]["z"]) < 0.01

        # "I'm coming" by keyboard: the case starts and the desk call opens.
        page.focus("#called-coming")
        page.keyboard.press("Enter")
        call = agents.run(sara.expect("call", timeout=15, active=True))
        assert {m["name"] for m in call["members"]} == {"Ada", "Sara Lind"}
        s = wait_state(page, "s.call && s.ticket.status === 'serving'")
        assert page.is_hidden("#called-panel") and page.is_visible("#call-bar")
        assert "Sara Lind" in page.text_content("#call-members")

        # This Chromium has no microphone: the page says so and offers text.
        wait_state(page, "s.voice.mic === 'denied' || s.voice.mic === 'unavailable'")
        assert "write to the desk" in page.text_content("#call-voice")
        page.focus("#call-input")
        page.keyboard.type("I have no microphone")
        page.keyboard.press("Enter")
        said = agents.run(sara.expect("desk_say", timeout=15))
        assert said["text"] == "I have no microphone" and said["name"] == "Ada"
        agents.run(sara.send({"t": "desk_say", "text": "No problem, we can write."}))
        page.wait_for_function(
            "() => document.querySelector('#call-lines').textContent.includes('we can write')",
            timeout=WAIT_MS,
        )
        log = state(page)["deskLog"]
        assert [e["text"] for e in log] == ["I have no microphone", "No problem, we can write."]
    finally:
        agents.run(sara.close())


def test_staff_console_serves_and_notes_stay_with_staff(
    hall: Server, open_page: Any, agents: AgentLoop
) -> None:
    citizen = open_page(base=hall.url)
    join(citizen, "Bo")
    take_ticket_with_clicks(citizen, "registration", "sv")
    assert state(citizen)["ticket"]["ticket"] == "B-001"

    staff = open_page(f"/?token={hall.token('staff', 'Sara Lind')}", base=hall.url)
    s = join(staff, "Sara Lind")
    assert s["role"] == "staff"
    assert staff.is_visible("#staff-panel") and staff.is_hidden("#service-panel")
    assert staff.is_disabled("#call-next")  # off duty

    # Go on duty with the keyboard: desk, status, submit.
    staff.select_option("#duty-desk", "desk-2")
    staff.focus("#duty-form input[name=duty-status][value=available]")
    staff.keyboard.press("Space")
    staff.focus("#duty-submit")
    staff.keyboard.press("Enter")
    s = wait_state(staff, "s.staff.duty.status === 'available'")
    assert s["staff"]["duty"]["desk"] == "desk-2"
    assert "Registration" in staff.text_content("#duty-now")
    # The queue per service shows the waiting ticket.
    staff.wait_for_selector("#queue-view [data-ticket='B-001']", timeout=WAIT_MS)
    assert "1 waiting" in staff.text_content("#queue-view")
    assert "Sara Lind" in staff.text_content("#team-list")

    staff.focus("#call-next")
    staff.keyboard.press("Enter")
    s = wait_state(staff, "s.staff.case && s.staff.case.ticket === 'B-001'")
    assert staff.text_content("#case-name") == "Bo"
    assert "Swedish" in staff.text_content("#case-lang")
    assert staff.is_disabled("#call-next")  # one case at a time

    citizen.wait_for_selector("#called-panel", state="visible", timeout=WAIT_MS)
    citizen.click("#called-coming")
    wait_state(staff, "s.staff.case.status === 'serving' && s.call")
    wait_state(citizen, "s.call && s.ticket.status === 'serving'")
    # A colleague goes on duty at the next desk, in view: staff invite them into the call.
    jonas = staff_agent(hall, "Jonas Weber")
    try:
        agents.run(on_duty(jonas, "desk-1"))
        staff.wait_for_selector(f"#invite-who option[value='{jonas.id}']", state="attached")
        staff.select_option("#invite-who", str(jonas.id))
        staff.focus("#invite-submit")
        staff.keyboard.press("Enter")
        agents.run(jonas.expect("call", timeout=15, active=True))
        s = wait_state(citizen, "s.call.members.length === 3")
        assert "Jonas Weber" in citizen.text_content("#call-members")
        # The invited are in the call, so no longer offered.
        staff.wait_for_selector(f"#invite-who option[value='{jonas.id}']", state="detached")
    finally:
        agents.run(jonas.close())

    secret = "Passport expired; note 4711 for colleagues only"
    staff.check("#close-form input[name=outcome][value=referred]")
    staff.fill("#close-notes", secret)
    staff.focus("#close-submit")
    staff.keyboard.press("Enter")
    wait_state(staff, "s.staff.case === null")
    assert staff.is_visible("#case-none")
    assert staff.input_value("#close-notes") == ""

    s = wait_state(citizen, "s.ticket.status === 'done' && s.call === null")
    assert s["ticket"]["outcome"] == "referred"
    assert "referred" in citizen.text_content("#ticket-status")
    assert citizen.is_hidden("#call-bar")
    # Notes are for staff: nothing of them reaches the citizen's page.
    assert "4711" not in citizen.content()
    assert "4711" not in str(state(citizen))
    # The survey after the case (features/feedback) is a modal dialog; Escape declines it.
    citizen.wait_for_selector("#survey-dialog[open]", timeout=WAIT_MS)
    citizen.keyboard.press("Escape")
    wait_state(citizen, "!s.survey.open && s.survey.state === 'dismissed'")
    # The citizen may take a new ticket again.
    citizen.click("#ticket-dismiss")
    assert citizen.is_visible("#service-panel")

    # Staff go off duty.
    staff.check("#duty-form input[name=duty-status][value=off]")
    staff.click("#duty-submit")
    wait_state(staff, "s.staff.duty.status === 'off'")
    assert staff.is_disabled("#call-next")


def test_voice_with_fake_media_against_a_staff_agent(
    hall: Server, open_page: Any, agents: AgentLoop, media_browser: Any
) -> None:
    """Issue 4, item 7: Chromium's fake microphone to an aiortc staff peer and back,
    checked with WebRTC stats in the page and FFT/RMS on the agent."""
    page = open_page(base=hall.url, on=media_browser)
    join(page, "Vera")
    take_ticket_with_clicks(page, "general", "en")

    sara = staff_agent(hall)
    peer = VoicePeer("staff", tone_hz=660.0)

    async def signal(offer: str) -> str:
        await sara.send({"t": "rtc_offer", "sdp": offer})
        answer = await sara.expect("rtc_answer", timeout=15)
        return str(answer["sdp"])

    try:
        agents.run(on_duty(sara))
        agents.run(call_next(sara))
        page.wait_for_selector("#called-panel", state="visible", timeout=WAIT_MS)
        page.click("#called-coming")
        agents.run(sara.expect("call", timeout=15, active=True))
        agents.run(peer.connect(signal))
        agents.run(peer.wait_connected(20))

        s = wait_state(page, "s.voice.state === 'connected'", timeout=30_000)
        assert s["voice"]["mic"] == "ok" and s["voice"]["joined"]
        assert "Voice call connected" in page.text_content("#call-voice")

        # The page hears the staff's tone: bytes keep arriving, with sound in them.
        first = voice_stats(page, lambda st: st is not None)
        before = max((i["bytesReceived"] for i in first["inbound"]), default=0)
        stats = voice_stats(
            page,
            lambda st: any(
                i["bytesReceived"] > before + 4000
                and i["audioLevel"] > 0
                and i["totalAudioEnergy"] > 0
                for i in st["inbound"]
            ),
        )
        assert stats["outbound"]["bytesSent"] > 0
        # And the staff agent hears the browser's fake microphone.
        agents.run(peer.wait_for_audio(2.0, timeout=30))
        assert peer.rms() > 0.01, describe(peer)  # not just silence

        # Mute is local (the track is disabled) and told to the server.
        page.click("#call-mute")
        s = wait_state(page, "s.voice.muted")
        assert page.get_attribute("#call-mute", "aria-pressed") == "true"
        assert "muted" in page.text_content("#call-voice")
        page.click("#call-mute")
        wait_state(page, "!s.voice.muted")

        # Leaving the voice call closes the connection; the desk call (and text) goes on.
        page.click("#call-hangup")
        s = wait_state(page, "s.voice.state === 'off'")
        assert s["call"] is not None and page.is_visible("#call-rejoin")
        assert page.evaluate("window.servicepoint.voiceStats()") is None

        agents.run(sara.send({"t": "close_case", "outcome": "resolved"}))
        wait_state(page, "s.call === null && s.ticket.status === 'done'")
        assert page.is_hidden("#call-bar")
    finally:
        agents.run(peer.close())
        agents.run(sara.close())
