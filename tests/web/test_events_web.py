"""Events in real Chromium against a real server (issue 10, item 10).

The server runs in this process (`running_server` on the agents' loop); every
person is a browser tab. Fake microphones play WAV files written by the test
(bursts of a harmonic tone, a different one per browser, so a speaker's echo
canceller never takes another speaker's voice for an echo of its own).

* axe-core finds no WCAG 2.1 A/AA violation, in all five languages, on the
  standalone schedule page, the schedule panel (with the host's "Schedule an
  event" form), the event panel with questions, the host console (counts, a
  raised hand, the stage), and the consent dialog; Escape declines the
  invitation and the microphone never opens.
* The "done when" flow: a host (a minted role token) schedules an event starting
  now in the hall's form; two citizens listen on the WebSocket path (the
  AudioWorklet's output level is 0 before the host speaks and rises after), a
  third, without WebCodecs, on WebRTC (inbound-rtp packets with an audio level);
  the server takes one WebRTC listener, so a fourth who prefers WebRTC is refused
  (`listener_budget`) and listens on the WebSocket;
  the host uploads a PNG and every citizen's stage screen shows it (3D texture,
  2D overlay); citizen 1 raises a hand, the host invites, citizen 1 accepts in
  the dialog and citizen 2 hears citizen 1; the host mutes citizen 1 and citizen 2
  no longer hears them (the host still); taken off the stage, citizen 1's
  microphone closes. A file that only claims to be a PNG is refused in words.
* The rest: "Remind me" on the standalone page and the calendar file; an event
  with one seat puts the second citizen in "Overflow room 1 of 1", who moves to
  the main auditorium once the host removes the first (with a reason they read);
  captions in every room (the line and a polite live region; a toggle); a
  question (counted characters), a vote, "answered"; report and block.

Every wait is for a state of the page, never for an amount of time.
"""

from __future__ import annotations

import math
import struct
import wave
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.app import ServicePoint
from tests.server.harness import mint
from tests.web.conftest import (
    BASE_ARGS,
    CHROMIUM,
    MEDIA_ARGS,
    WEBGL_ARGS,
    AgentLoop,
    own_server,
    state,
    url,
)
from tests.web.conftest import wait_state as _wait_state
from tests.web.test_a11y import axe_violations

WAIT_MS = 30_000
LANGS = ["sv", "da", "de", "ja", "en"]
SLIDE_RGB = (190, 24, 150)
HEARD = 0.01
"""RMS above which a speaker is heard (the WAVs peak near 0.4)."""
SILENT = 0.002
"""RMS below which nobody is heard."""
NO_WEBCODECS = "delete window.AudioDecoder; delete window.EncodedAudioChunk;"
PREFER_WEBRTC = "localStorage.setItem('servicepoint.events.path', 'webrtc');"


# -- fixtures ----------------------------------------------------------------------------------


def speech_wav(path: Path, f0: float, on_s: float, off_s: float, seconds: float = 6.0) -> Path:
    """Bursts of a harmonic tone (on/off like syllables: noise suppression keeps them)."""
    rate = 48_000
    frames = bytearray()
    period = on_s + off_s
    for n in range(int(rate * seconds)):
        t = n / rate
        phase = t % period
        if phase < on_s:
            env = math.sin(math.pi * phase / on_s) ** 2
            x = sum(math.sin(2 * math.pi * f0 * k * t) / k for k in (1, 2, 3))
            v = 0.35 * env * x / 1.8
        else:
            v = 0.0
        frames += struct.pack("<h", int(max(-1.0, min(1.0, v)) * 32767))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


def png(path: Path, rgb: tuple[int, int, int], width: int = 320, height: int = 180) -> Path:
    """A solid PNG, written by hand (zlib and CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    body = zlib.compress(row * height, 9)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture
def sp(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server of the test's own, in this process (list it before `open_page`)."""
    yield from own_server(agents, tmp_path / "data")


@pytest.fixture
def sp_one_listener(tmp_path: Path, agents: AgentLoop) -> Iterator[ServicePoint]:
    """A server whose stage takes a single WebRTC listener (the next get `listener_budget`)."""
    yield from own_server(
        agents, tmp_path / "data", features={"voice": {"stage_listener_budget": 1}}
    )


@pytest.fixture(scope="module")
def wavs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("voices")
    return {
        "host": speech_wav(d / "host.wav", 220.0, 0.24, 0.12),
        "citizen": speech_wav(d / "citizen.wav", 330.0, 0.18, 0.10),
    }


def _launch(playwright: Any, *args: str) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*BASE_ARGS, *args])


@pytest.fixture(scope="module")
def host_browser(playwright: Any, wavs: dict[str, Path]) -> Iterator[Any]:
    """The map view (no WebGL), a fake microphone playing the host's voice."""
    b = _launch(
        playwright,
        "--disable-3d-apis",
        "--disable-webgl",
        *MEDIA_ARGS,
        f"--use-file-for-fake-audio-capture={wavs['host']}",
    )
    yield b
    b.close()


@pytest.fixture(scope="module")
def citizen_browser(playwright: Any, wavs: dict[str, Path]) -> Iterator[Any]:
    """The 3D view (SwiftShader), a fake microphone playing a citizen's voice."""
    b = _launch(
        playwright,
        *WEBGL_ARGS,
        *MEDIA_ARGS,
        f"--use-file-for-fake-audio-capture={wavs['citizen']}",
    )
    yield b
    b.close()


# -- helpers -----------------------------------------------------------------------------------


def wait_state(page: Any, condition: str, timeout: int = WAIT_MS) -> dict[str, Any]:
    """conftest's `wait_state`, with this module's patience."""
    return _wait_state(page, condition, timeout)


def local_now(delta_min: int = 0) -> str:
    """Local time at the service point (world.toml: Europe/Stockholm), a datetime-local value."""
    now = datetime.now(ZoneInfo("Europe/Stockholm")) + timedelta(minutes=delta_min)
    return now.strftime("%Y-%m-%dT%H:%M")


def open_hall(
    open_page: Any, sp: ServicePoint, browser: Any, name: str, token: str | None = None, **kw: Any
) -> Any:
    page = open_page(base=url(sp), on=browser, **kw)
    if token:
        page.fill("#join-token", token)
    # As conftest's `join`, with this module's patience (three browsers share two cores).
    page.fill("#join-name", name)
    page.click("#join-submit")
    wait_state(page, "s.connected")
    page.wait_for_selector("#ev-schedule-panel", state="visible", timeout=WAIT_MS)
    return page


def create_event(host: Any, title: str, capacity: int = 50) -> int:
    """The host schedules an event starting now, for an hour, in the hall's form."""
    host.wait_for_selector("#ev-create", state="visible")
    host.fill("#ev-new-title-en", title)
    host.fill("#ev-new-title-sv", f"{title} (sv)")
    host.fill("#ev-new-starts", local_now())
    host.fill("#ev-new-ends", local_now(60))
    host.fill("#ev-new-capacity", str(capacity))
    host.click("#ev-new-submit")
    s = wait_state(
        host, f"s.events.schedule.some(e => e.title === {title!r} && e.status === 'live')"
    )
    return int(next(e["id"] for e in s["events"]["schedule"] if e["title"] == title))


def join_event(page: Any, event: int) -> dict[str, Any]:
    button = f"#ev-schedule button[data-action=join][data-event='{event}']"
    page.wait_for_selector(button, timeout=WAIT_MS)
    page.click(button)
    return wait_state(page, f"s.events.attending && s.events.attending.event === {event}")


def level(page: Any, speaker: int | None = None) -> float:
    value: float = page.evaluate(
        "id => window.__events.level(id === null ? undefined : id)", speaker
    )
    return value


def wait_level(
    page: Any, speaker: int | None, above: float | None = None, below: float | None = None
) -> None:
    """Wait until the level of `speaker` (None: the whole output) is above or below a bound."""
    arg = "undefined" if speaker is None else str(speaker)
    op, bound = (">", above) if above is not None else ("<", below)
    cond = f"window.__events.level({arg}) {op} {bound}"
    try:
        page.wait_for_function(f"() => {cond}", timeout=WAIT_MS)
    except Exception as exc:
        sound = state(page)["events"]["sound"]
        raise AssertionError(f"{cond}: level {level(page, speaker)}, sound {sound}") from exc


def rtc_heard(page: Any) -> dict[str, Any]:
    """Wait until the WebRTC listen connection receives packets with sound in them."""
    page.wait_for_function(
        """async () => {
             const s = await window.servicepoint.eventsRtcStats();
             return Boolean(s.listen && s.listen.inbound.some(
               i => i.packetsReceived > 20 && i.audioLevel > 0));
           }""",
        timeout=WAIT_MS,
        polling=250,
    )
    stats: dict[str, Any] = page.evaluate("window.servicepoint.eventsRtcStats()")
    return stats


def switch_language(page: Any, lang: str) -> None:
    page.select_option("#lang-select", lang)
    page.wait_for_function(f"() => document.documentElement.lang === {lang!r}")


def axe_in_every_language(page: Any, what: str, select: str = "#lang-select") -> None:
    for lang in LANGS:
        page.select_option(select, lang)
        page.wait_for_function(f"() => document.documentElement.lang === {lang!r}")
        assert axe_violations(page) == [], f"{what} ({lang})"


# -- accessibility ------------------------------------------------------------------------------


def test_every_events_panel_passes_axe_in_five_languages(
    sp: ServicePoint, open_page: Any, host_browser: Any
) -> None:
    host = open_hall(open_page, sp, host_browser, "Hanna", token=mint("host", "Hanna Värd"))
    event = create_event(host, "Town hall on the new library")

    page = open_page("/events.html", base=url(sp), on=host_browser)
    s = wait_state(page, f"s.connected && s.schedule.some(e => e.id === {event})")
    assert s["tz"] == "Europe/Stockholm"
    item = page.locator(f"#ev-page-schedule li[data-event='{event}']")
    assert item.locator("h3").text_content() == "Town hall on the new library"
    assert item.locator("time").get_attribute("datetime")
    assert page.get_attribute("#ev-page-schedule a[href='/api/events/schedule.ics']", "download")
    axe_in_every_language(page, "schedule page", "#ev-lang")

    citizen = open_hall(open_page, sp, host_browser, "Cecilia")
    wait_state(citizen, f"s.events.schedule.some(e => e.id === {event} && e.status === 'live')")
    axe_in_every_language(citizen, "schedule panel")
    axe_in_every_language(host, "schedule panel with the form to schedule an event")

    join_event(host, event)
    wait_state(host, "s.events.host.visible")
    join_event(citizen, event)
    citizen.fill("#ev-q-text", "Will the library open on Sundays?")
    citizen.click("#ev-q-submit")
    wait_state(citizen, "s.events.questions.length === 1")
    citizen.click("#ev-hand")
    wait_state(citizen, "s.events.you && s.events.you.hand")
    wait_state(host, "s.events.host.hands.length === 1 && s.events.questions.length === 1")
    wait_state(host, "s.events.host.counts.length > 0")
    axe_in_every_language(citizen, "event panel with a question, hand raised")
    axe_in_every_language(host, "host console with a hand, the stage and a question")

    # The invitation: a modal dialog; nothing opens the microphone before "Accept".
    switch_language(citizen, "en")
    host.click("#ev-host-hands button[data-action=promote]")
    citizen.wait_for_selector("#ev-consent[open]", timeout=WAIT_MS)
    assert citizen.evaluate("document.activeElement.id") == "ev-consent-heading"
    assert "90 seconds" in citizen.text_content("#ev-consent-text")
    citizen.keyboard.press("Tab")
    assert citizen.evaluate("document.activeElement.id") == "ev-consent-accept"
    citizen.keyboard.press("Tab")
    assert citizen.evaluate("document.activeElement.id") == "ev-consent-decline"
    citizen.keyboard.press("Tab")  # focus stays in the dialog
    assert citizen.evaluate("document.activeElement.id") == "ev-consent-accept"
    s = state(citizen)["events"]
    assert s["sound"]["publish"] == "off" and not s["sound"]["micOpen"]
    axe_in_every_language(citizen, "consent dialog")

    # Escape declines: the dialog closes, the invitation is gone, the microphone stayed shut.
    citizen.keyboard.press("Escape")
    s = wait_state(citizen, "!s.events.consent.open && s.events.you && !s.events.you.invited")
    assert not s["events"]["you"]["speaker"]
    assert s["events"]["sound"]["publish"] == "off" and not s["events"]["sound"]["micOpen"]


# -- the "done when" flow -------------------------------------------------------------------


def test_a_town_hall_heard_seen_and_moderated(
    sp_one_listener: ServicePoint,
    open_page: Any,
    host_browser: Any,
    citizen_browser: Any,
    tmp_path: Path,
) -> None:
    sp = sp_one_listener
    host = open_hall(open_page, sp, host_browser, "Hanna", token=mint("host", "Hanna Värd"))
    event = create_event(host, "Launch of the e-service")

    c1 = open_hall(open_page, sp, citizen_browser, "Anna")
    c2 = open_hall(open_page, sp, citizen_browser, "Bo")
    c3 = open_hall(open_page, sp, host_browser, "Cai", init_script=NO_WEBCODECS)
    ids = {name: int(state(p)["selfId"]) for name, p in (("c1", c1), ("c2", c2), ("c3", c3))}
    for page in (c1, c2, c3):
        join_event(page, event)
    for page in (c1, c2):
        s = wait_state(page, "s.events.sound.path === 'ws' && s.events.sound.ws.state === 'on'")
        assert s["view"] == "3d" and s["events"]["board"] == {"drawn": True, "kind": "3d"}
        assert level(page) < SILENT, "nobody speaks yet"
    s = wait_state(c3, "s.events.sound.path === 'webrtc' && s.events.sound.listen === 'connected'")
    assert s["view"] == "2d"
    # The one WebRTC listener is taken: a fourth who asks for WebRTC goes to the WebSocket.
    c4 = open_hall(open_page, sp, host_browser, "Dag", init_script=PREFER_WEBRTC)
    join_event(c4, event)
    s = wait_state(c4, "s.events.sound.path === 'ws' && s.events.sound.ws.state === 'on'")
    assert s["events"]["sound"]["listen"] == "failed" and s["events"]["sound"]["problem"] is None

    # The host joins: on stage at once, publishing; everyone hears them.
    s = join_event(host, event)
    assert s["events"]["attending"]["host"]
    host_id = int(s["selfId"])
    wait_state(host, "s.events.sound.publish === 'connected' && s.events.sound.micOpen")
    for page in (c1, c2):
        wait_level(page, host_id, above=HEARD)
        assert state(page)["events"]["stage"]["speakers"][0]["id"] == host_id
    stats = rtc_heard(c3)
    assert stats["publish"] is None  # a listener never sends
    wait_level(c4, host_id, above=HEARD)

    # A file that only claims to be a PNG: refused, and the console says why in words.
    fake = tmp_path / "slides.png"
    fake.write_bytes(b"%PDF-1.7 this is no image at all\n" * 40)
    host.set_input_files("#ev-host-file", str(fake))
    host.click("#ev-host-upload")
    wait_state(host, "s.events.host.upload.state === 'failed'")
    assert host.text_content("#ev-host-upload-error").startswith("The file is not a PDF, PNG")
    assert host.get_attribute("#ev-host-file", "aria-invalid") == "true"

    # Slides: a PNG, in 12 KiB chunks, shown on every stage screen (3D and the 2D overlay).
    host.set_input_files("#ev-host-file", str(png(tmp_path / "slide.png", SLIDE_RGB)))
    host.click("#ev-host-upload")
    s = wait_state(host, "s.events.host.upload.state === 'done'")
    assert s["events"]["stage"]["slide"]["pages"] == 1
    for page in (c1, c2, c3):
        s = wait_state(page, "s.events.screen.painted")
        assert s["events"]["screen"]["url"].startswith("/api/events/slide?")
        pixel = page.evaluate("window.servicepoint.eventsScreenPixel()")
        assert all(abs(a - b) <= 16 for a, b in zip(pixel, SLIDE_RGB, strict=True)), pixel
        assert page.locator("#ev-slide-img").get_attribute("alt").startswith("Slide 1 of 1")
    assert state(c1)["events"]["screen"]["kind"] == "3d"
    assert state(c3)["events"]["screen"]["kind"] == "2d"

    # Citizen 1 raises a hand; the host invites; citizen 1 accepts; citizen 2 hears them.
    c1.click("#ev-hand")
    host.wait_for_selector(f"#ev-host-hands li[data-id='{ids['c1']}'] button[data-action=promote]")
    assert state(c1)["events"]["sound"]["micOpen"] is False
    host.click(f"#ev-host-hands li[data-id='{ids['c1']}'] button[data-action=promote]")
    c1.wait_for_selector("#ev-consent[open]", timeout=WAIT_MS)
    assert not state(c1)["events"]["sound"]["micOpen"]  # not before consent
    c1.click("#ev-consent-accept")
    wait_state(
        c1,
        "s.events.you.speaker && s.events.sound.publish === 'connected' && s.events.sound.micOpen",
    )
    wait_level(c2, ids["c1"], above=HEARD)
    wait_state(host, f"s.events.host.speakers.some(p => p.id === {ids['c1']})")

    # The host mutes citizen 1: citizen 2 no longer hears them, and still hears the host.
    host.click(f"#ev-host-speakers li[data-id='{ids['c1']}'] button[data-action=mute]")
    wait_state(c1, "s.events.you.muted")
    wait_level(c2, ids["c1"], below=SILENT)
    wait_level(c2, host_id, above=HEARD)

    # Taken off the stage, citizen 1's publish connection and microphone close.
    host.click(f"#ev-host-speakers li[data-id='{ids['c1']}'] button[data-action=demote]")
    wait_state(
        c1, "!s.events.you.speaker && s.events.sound.publish === 'off' && !s.events.sound.micOpen"
    )
    assert state(c1)["events"]["sound"]["path"] == "ws"


# -- the schedule page, overflow, captions, questions, moderation ----------------------------------


def test_reminders_overflow_captions_questions_and_moderation(
    sp: ServicePoint, open_page: Any, host_browser: Any
) -> None:
    host = open_hall(open_page, sp, host_browser, "Hanna", token=mint("host", "Hanna Värd"))
    event = create_event(host, "Budget hearing", capacity=1)
    host.fill("#ev-new-title-en", "Opening of the new library")
    host.fill("#ev-new-starts", local_now(120))
    host.fill("#ev-new-ends", local_now(180))
    host.click("#ev-new-submit")
    s = wait_state(host, "s.events.schedule.some(e => e.title === 'Opening of the new library')")
    later = next(e["id"] for e in s["events"]["schedule"] if e["status"] == "scheduled")

    # The standalone page: "Remind me" on the coming event, and the calendar file.
    page = open_page("/events.html", base=url(sp), on=host_browser, lang="sv-SE")
    wait_state(page, f"s.connected && s.schedule.some(e => e.id === {later})")
    remind = page.locator(
        f"#ev-page-schedule li[data-event='{later}'] button[data-action=register]"
    )
    assert remind.text_content() == "Påminn mig" and remind.get_attribute("aria-pressed") == "false"
    remind.click()
    wait_state(page, f"s.schedule.some(e => e.id === {later} && e.registered)")
    assert remind.get_attribute("aria-pressed") == "true"
    live = page.locator(f"#ev-page-schedule li[data-event='{event}']")
    assert live.locator("a[data-action=hall]").get_attribute("href") == "/"
    ics = page.request.get(f"{url(sp)}/api/events/schedule.ics")
    assert ics.ok and "BEGIN:VCALENDAR" in ics.text()
    assert "Opening of the new library" in ics.text()

    # One seat in the auditorium: the second citizen is in overflow room 1.
    c1 = open_hall(open_page, sp, host_browser, "Anna")
    c2 = open_hall(open_page, sp, host_browser, "Bo")
    assert join_event(c1, event)["events"]["attending"]["instance"] == 0
    assert join_event(c2, event)["events"]["attending"]["instance"] == 1
    assert c1.text_content("#ev-room") == "You are in: Main auditorium"
    assert c2.text_content("#ev-room") == "You are in: Overflow room 1 of 1"
    assert c2.is_hidden("#ev-move")
    join_event(host, event)

    # Captions reach every room: the line, and the polite live region (final lines only).
    host.fill("#ev-host-caption", "Welcome, everyone")
    host.press("#ev-host-caption", "Enter")
    for p in (c1, c2):
        p.wait_for_function(
            "() => document.querySelector('#ev-captions-live').textContent.includes('Welcome')"
        )
        assert p.text_content("#ev-caption-line") == "Welcome, everyone"
        assert p.get_attribute("#ev-captions-live", "aria-live") == "polite"
    c2.uncheck("#ev-captions-on")
    host.fill("#ev-host-caption", "The budget has three parts")
    host.press("#ev-host-caption", "Enter")
    c1.wait_for_function(
        "() => document.querySelector('#ev-caption-line').textContent.includes('three parts')"
    )
    wait_state(c2, "s.events.caption && s.events.caption.text.includes('three parts')")
    assert "three parts" not in c2.text_content("#ev-captions-live")

    # A question: 500 characters at most, counted; a vote; answered.
    assert c1.get_attribute("#ev-q-text", "maxlength") == "500"
    c1.fill("#ev-q-text", "Why is the pool closing?")
    assert c1.text_content("#ev-q-count") == "24 of 500 characters"
    c1.click("#ev-q-submit")
    s = wait_state(c2, "s.events.questions.length === 1")
    question = s["events"]["questions"][0]["id"]
    assert c1.text_content(f"li[data-question='{question}'] .actions") == "Your question"
    c2.click(f"li[data-question='{question}'] button[data-action=vote]")
    wait_state(c2, "s.events.questions[0].voted && s.events.questions[0].votes === 1")
    assert (
        c2.get_attribute(f"li[data-question='{question}'] button[data-action=vote]", "aria-pressed")
        == "true"
    )
    wait_state(host, "s.events.questions.length === 1 && s.events.questions[0].votes === 1")
    host.click(f"li[data-question='{question}'] button[data-action=answered]")
    wait_state(c1, "s.events.questions[0].answered")

    # The host removes citizen 1 (who raised a hand: the host's console knows people by
    # their hands, the stage and who is near) with a reason; citizen 2 moves into the seat.
    c1_id = int(state(c1)["selfId"])
    c1.click("#ev-hand")
    host.wait_for_selector(f"#ev-host-who option[value='{c1_id}']", state="attached")
    host.select_option("#ev-host-who", str(c1_id))
    host.fill("#ev-host-reason", "Please keep to the topic")
    host.click("#ev-host-kick")
    wait_state(c1, "s.events.attending === null")
    c1.wait_for_function(
        "() => document.querySelector('#chat-lines').textContent.includes('keep to the topic')"
    )
    assert c1.is_hidden("#ev-panel")
    c2.wait_for_selector("#ev-move", state="visible", timeout=WAIT_MS)
    assert "seat is free" in c2.text_content("#ev-seat")
    c2.click("#ev-move")
    wait_state(c2, "s.events.attending.instance === 0")
    assert c2.text_content("#ev-room") == "You are in: Main auditorium"

    # Report and block, from the people at the event (the host is on stage).
    host_id = int(state(host)["selfId"])
    person = f"#ev-people li[data-id='{host_id}']"
    c2.click(f"{person} button[data-action=report]")
    assert c2.evaluate("document.activeElement.id") == "ev-report-reason"
    c2.select_option("#ev-report-reason", "spam")
    c2.fill("#ev-report-text", "Advertises a shop")
    c2.click("#ev-report-send")
    c2.wait_for_function(
        "() => [...document.querySelectorAll('#ev-people-block [role=status]')]"
        ".some(e => e.textContent.includes('received your report'))"
    )
    c2.click(f"{person} button[data-action=block]")
    wait_state(c2, f"s.events.people.blocked.includes({host_id})")
    assert c2.get_attribute(f"{person} button[data-action=block]", "aria-pressed") == "true"
