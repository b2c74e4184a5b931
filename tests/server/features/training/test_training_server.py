"""A training scenario end to end: a real server, a staff agent, the simulated citizen process.

The staff agent starts "angry-citizen" in Swedish at a practice desk; the server
starts the simulated citizen agent, which joins, walks up and speaks through the
practice desk's voice room. The staff agent's voice peer (connected as in a desk
call) hears the clip; its choices go through the branches and the debrief has the
rubric's score; the ``completed`` stream holds the run and the process is gone.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import numpy as np
import pytest

from agents.client import AgentClient
from agents.voice_peer import SAMPLE_RATE, Signal, VoicePeer
from server.app import ServicePoint
from server.features.training.feature import Training
from tests.server.harness import mint, running_server, staff_agent, ws_url


def signal_through(client: AgentClient) -> Signal:
    async def signal(offer: str) -> str:
        await client.send({"t": "rtc_offer", "sdp": offer})
        answer = await client.expect("rtc_answer", timeout=15)
        return str(answer["sdp"])

    return signal


def speech_band_share(pcm: np.ndarray) -> float:
    """The share of the spectrum's energy between 100 Hz and 4 kHz."""
    power = np.abs(np.fft.rfft(pcm)) ** 2
    freqs = np.fft.rfftfreq(len(pcm), 1 / SAMPLE_RATE)
    band = power[(freqs >= 100) & (freqs <= 4000)].sum()
    return float(band / power[freqs >= 20].sum())


def training(sp: ServicePoint) -> Training:
    feature = sp.feature("training")
    assert isinstance(feature, Training)
    return feature


async def test_angry_citizen_in_swedish_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make test` installs espeak-ng; without it the voice cannot be checked: a failure.
    assert shutil.which("espeak-ng"), "espeak-ng is missing: run `make espeak` (as root)"
    # A run's secret may start with "-" (token_urlsafe does one time in 64): that
    # once failed the agent's argument parsing. Make it always do so here.
    urlsafe = secrets.token_urlsafe
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n=None: "-" + urlsafe(n))
    async with running_server(tmp_path) as sp, staff_agent(sp) as sara:
        offer = await sara.expect("training_scenarios")
        assert "angry-citizen" in {s["id"] for s in offer["scenarios"]}
        assert "practice-1" in offer["desks"]
        await sara.send(
            {"t": "training_start", "desk": "practice-1", "scenario": "angry-citizen", "lang": "sv"}
        )
        call = await sara.expect("call", active=True, timeout=30)
        assert call["desk"] == "practice-1" and len(call["members"]) == 2
        line = await sara.expect("training_line", node="opening")
        assert "väntat" in line["text"]
        assert {c["id"] for c in line["choices"]} == {"acknowledge", "calm_down", "rules"}
        run = next(iter(training(sp).runs.values()))
        proc, subject = run.proc, run.staff.subject
        assert proc is not None and proc.returncode is None
        assert run.secret.startswith("-")
        # The secret is not on the agent's command line, which every local user can read.
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert b"agents.training.citizen" in cmdline and run.secret.encode() not in cmdline

        staff = VoicePeer("staff", tone_hz=660.0, receive_slots=1)
        try:
            await staff.connect(signal_through(sara))
            await staff.wait_connected(15)
            # The citizen says its line again now that the staff member hears.
            staff.clear()
            await sara.send({"t": "training_repeat"})
            await staff.wait_for_audio(1.0, timeout=20)
            heard = staff.pcm()
            assert staff.rms() > 0.01, staff.rms()
            assert speech_band_share(heard) > 0.5

            # A poor first answer escalates; an apology calms; an explanation solves.
            await sara.send({"t": "training_choice", "choice": "calm_down"})
            assert (await sara.expect("training_line"))["node"] == "escalates"
            await sara.send({"t": "training_choice", "choice": "nope"})
            assert (await sara.expect("error"))["code"] == "bad_choice"
            await sara.send({"t": "training_choice", "choice": "apologise"})
            assert (await sara.expect("training_line"))["node"] == "calmer"
            await sara.send({"t": "training_choice", "choice": "explain"})
            end = await sara.expect("training_line")
            assert end["node"] == "resolved_end" and end["choices"] == []
            debrief = await sara.expect("training_debrief")
            assert debrief["scenario"] == "angry-citizen"
            assert debrief["score"] == pytest.approx(4 / 6, abs=1e-3)
            assert {r["criterion"]: (r["points"], r["max"]) for r in debrief["rubric"]} == {
                "empathy": (1, 2),
                "deescalation": (1, 2),
                "resolution": (2, 2),
            }
            # The citizen says its last line and leaves: the call ends, the process exits.
            await sara.expect("call", active=False, timeout=30)
            await proc.wait()
            assert proc.returncode is not None
            assert not training(sp).runs

            await sara.send({"t": "training_choice", "choice": "explain"})
            assert (await sara.expect("error"))["code"] == "not_training"
        finally:
            await staff.close()
        entries = [f for _id, f in await sp.store.keyspace("training").read("completed")]
        assert len(entries) == 1
        entry = entries[0]
        assert entry["type"] == "completed" and entry["scenario"] == "angry-citizen"
        assert entry["staff"] == subject
        assert float(entry["score"]) == pytest.approx(4 / 6, abs=1e-3)

        # The completed scenario feeds the scorecard: the training metric and its badge.
        card = sp.feature("scorecard")
        await card.refreshed()  # type: ignore[attr-defined]
        await card.refreshed()  # type: ignore[attr-defined]
        await sara.send({"t": "scorecard_get"})
        await sara.sync()  # the answer is the last scorecard (earlier pushes may be queued)
        progress = [m for m in sara.messages if m["t"] == "scorecard"][-1]["progress"]
        assert progress["today"]["metrics"]["training"]["points"] > 0
        assert "training-difficult-conversation" in {b["id"] for b in progress["badges"]}


async def test_bad_input_gets_error_codes(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path, features={"training": {"pregenerate": False}}) as sp,
        staff_agent(sp) as sara,
        staff_agent(sp, name="Jonas Weber", subject="jonas.weber") as jonas,
        AgentClient(ws_url(sp), name="Ada") as ada,
    ):
        await sara.send(
            {"t": "training_start", "desk": "practice-1", "scenario": "nope", "lang": "sv"}
        )
        assert (await sara.expect("error"))["code"] == "unknown_scenario"
        await sara.send(
            {"t": "training_start", "desk": "desk-9", "scenario": "angry-citizen", "lang": "sv"}
        )
        assert (await sara.expect("error"))["code"] == "unknown_practice_desk"
        await sara.send({"t": "training_choice", "choice": "acknowledge"})
        assert (await sara.expect("error"))["code"] == "not_training"
        await sara.send({"t": "training_stop"})
        assert (await sara.expect("error"))["code"] == "not_training"
        await ada.send(
            {"t": "training_start", "desk": "practice-1", "scenario": "angry-citizen", "lang": "sv"}
        )
        assert (await ada.expect("error"))["code"] == "forbidden"
        await ada.send({"t": "training_join", "session": "x" * 32})
        assert (await ada.expect("error"))["code"] == "bad_session"

        await sara.send(
            {"t": "training_start", "desk": "practice-1", "scenario": "angry-citizen", "lang": "sv"}
        )
        await sara.expect("training_line", node="opening", timeout=30)
        await jonas.send(
            {"t": "training_start", "desk": "practice-1", "scenario": "angry-citizen", "lang": "de"}
        )
        assert (await jonas.expect("error"))["code"] == "practice_desk_taken"
        await sara.send(
            {"t": "training_start", "desk": "practice-2", "scenario": "angry-citizen", "lang": "sv"}
        )
        assert (await sara.expect("error"))["code"] == "already_training"

        # Stopping kills the simulated citizen: no process is left.
        run = next(iter(training(sp).runs.values()))
        assert run.proc is not None
        await sara.send({"t": "training_stop"})
        assert (await sara.expect("training_ended"))["scenario"] == "angry-citizen"
        await run.proc.wait()
        assert not training(sp).runs


async def start_permit_run(sara: AgentClient) -> None:
    await sara.send(
        {"t": "training_start", "desk": "practice-2", "scenario": "complex-permit", "lang": "en"}
    )
    await sara.expect("training_line", node="opening", timeout=30)


async def test_the_citizen_process_dies_when_the_staff_member_leaves(tmp_path: Path) -> None:
    async with running_server(tmp_path, features={"training": {"pregenerate": False}}) as sp:
        sara = staff_agent(sp)
        await sara.connect()
        await start_permit_run(sara)
        run = next(iter(training(sp).runs.values()))
        assert run.proc is not None
        await sara.send({"t": "bye"})  # leaving for good: no resume follows
        await run.proc.wait()
        assert run.proc.returncode is not None
        await sara.wait_closed()
        assert not training(sp).runs


async def test_a_dropped_staff_connection_resumes_the_run(tmp_path: Path) -> None:
    async with running_server(tmp_path, features={"training": {"pregenerate": False}}) as sp:
        token = mint("staff", "Sara Lind")
        sara = AgentClient(ws_url(sp), name="x", token=token)
        await sara.connect()
        await start_permit_run(sara)
        run = next(iter(training(sp).runs.values()))
        proc = run.proc
        assert proc is not None
        await sara.abort()  # the network drops; the run waits for the resume window
        back = AgentClient(ws_url(sp), name="x", token=token, resume=sara.resume)
        await back.connect()
        assert back.welcome is not None and back.welcome["resumed"] is True
        line = await back.expect("training_line", node="opening", timeout=15)
        assert line["choices"]
        assert (await back.expect("call", active=True))["desk"] == "practice-2"
        assert proc.returncode is None and training(sp).runs
        await back.send({"t": "training_choice", "choice": line["choices"][0]["id"]})
        assert (await back.expect("training_line"))["node"] != "opening"
        await back.send({"t": "training_stop"})
        await back.expect("training_ended")
        await proc.wait()
        await back.close()


async def test_the_run_ends_when_the_resume_window_passes(tmp_path: Path) -> None:
    async with running_server(
        tmp_path, features={"training": {"pregenerate": False}}, resume_s=1
    ) as sp:
        sara = staff_agent(sp)
        await sara.connect()
        await start_permit_run(sara)
        run = next(iter(training(sp).runs.values()))
        assert run.proc is not None
        await sara.abort()
        await run.proc.wait()  # about a second later: no resume came
        assert not training(sp).runs


async def test_the_citizen_process_dies_with_the_server(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path, features={"training": {"pregenerate": False}}) as sp,
        staff_agent(sp) as sara,
    ):
        await sara.send(
            {
                "t": "training_start",
                "desk": "practice-3",
                "scenario": "wrong-language",
                "lang": "ja",
                "ui": "sv",
            }
        )
        line = await sara.expect("training_line", node="opening", timeout=30)
        assert "住所" in line["text"]
        assert "tolk" in next(c["text"] for c in line["choices"] if c["id"] == "interpreter")
        run = next(iter(training(sp).runs.values()))
        assert run.proc is not None
    assert run.proc.returncode is not None
