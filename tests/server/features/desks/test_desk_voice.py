"""A desk call end to end: signalling over our WebSocket, audio through the server.

The citizen agent sends 440 Hz, the staff agent 660 Hz; each hears the other's
tone (FFT peak). A bystander can join nothing, so hears nothing (the router's
own tests show audio never crosses rooms). When the case closes, the server's
peer connections are gone.
"""

from __future__ import annotations

from pathlib import Path

from agents.client import AgentClient
from agents.voice_peer import Signal, VoicePeer
from tests.server.harness import open_desk_call, running_server, staff_agent, ws_url


def signal_through(client: AgentClient) -> Signal:
    async def signal(offer: str) -> str:
        await client.send({"t": "rtc_offer", "sdp": offer})
        answer = await client.expect("rtc_answer", timeout=15)
        return str(answer["sdp"])

    return signal


async def test_desk_call_is_heard_by_the_desk_only(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Nosy") as nosy,
    ):
        call = await open_desk_call(sara, ada)
        assert {m["id"] for m in call["members"]} == {ada.id, sara.id}
        assert call["desk"] == "desk-2"

        citizen = VoicePeer("citizen", tone_hz=440.0)
        staff = VoicePeer("staff", tone_hz=660.0)
        try:
            await citizen.connect(signal_through(ada))
            await staff.connect(signal_through(sara))
            await citizen.wait_connected(15)
            await staff.wait_connected(15)
            await staff.wait_for_audio(1.0)
            await citizen.wait_for_audio(1.0)
            assert abs(staff.dominant_frequency() - 440.0) < 10.0
            assert abs(citizen.dominant_frequency() - 660.0) < 10.0
            assert sp.voice is not None and sp.voice.open_peer_connections == 2

            # A bystander cannot get into the call.
            await nosy.send({"t": "rtc_offer", "sdp": "v=0\r\n"})
            assert (await nosy.expect("error"))["code"] == "not_in_call"

            # Mute from the citizen: nothing more reaches the staff side, while the
            # citizen goes on hearing the staff (a second of audio as the clock).
            await ada.send({"t": "mute", "muted": True})
            await ada.sync()
            citizen.clear()
            await citizen.wait_for_audio(0.3)  # let what was in flight drain
            staff.clear()
            citizen.clear()
            await citizen.wait_for_audio(1.0)
            assert staff.frames_received == 0 and staff.rms() == 0.0
            await ada.send({"t": "mute", "muted": False})
            await staff.wait_for_audio(0.5)
            assert abs(staff.dominant_frequency() - 440.0) < 10.0

            await sara.send({"t": "close_case", "outcome": "resolved"})
            await ada.expect("call", active=False)
            await sara.expect("call", active=False)
            await ada.sync()
            assert sp.voice.open_peer_connections == 0
        finally:
            await citizen.close()
            await staff.close()


async def test_bad_sdp_gets_an_error_and_leaks_nothing(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        AgentClient(ws_url(sp), name="Ada") as ada,
    ):
        await open_desk_call(sara, ada)
        for sdp, code in (
            ("this is not sdp", "bad_sdp"),
            ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", "bad_sdp"),
        ):
            await ada.send({"t": "rtc_offer", "sdp": sdp})
            err = await ada.expect("error")
            assert err["code"] in (code, "no_audio"), err
            assert err["ref"] == "rtc_offer"
        assert sp.voice is not None and sp.voice.open_peer_connections == 0
        await ada.send({"t": "ping", "n": 5})
        await ada.expect("pong", n=5)


async def test_bad_ice_candidate_closes_the_peer_without_a_leak(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        AgentClient(ws_url(sp), name="Ada") as ada,
    ):
        await open_desk_call(sara, ada)
        citizen = VoicePeer("citizen", tone_hz=440.0)
        try:
            await citizen.connect(signal_through(ada))
            assert sp.voice is not None and sp.voice.open_peer_connections == 1
            await ada.send({"t": "rtc_ice", "candidate": "candidate:garbage", "mid": "0"})
            err = await ada.expect("error")
            assert err["code"] == "bad_candidate" and err["ref"] == "rtc_ice"
            await ada.sync()
            assert sp.voice.open_peer_connections == 0
        finally:
            await citizen.close()


async def test_staff_invites_an_interpreter_who_hears_both(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp) as sara,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Ines Interpreter") as ines,
    ):
        await open_desk_call(sara, ada)
        await ada.send({"t": "invite", "id": ines.id})
        assert (await ada.expect("error"))["code"] == "forbidden"
        await sara.send({"t": "invite", "id": ines.id})
        call = await ines.expect("call", active=True)
        assert {m["id"] for m in call["members"]} == {ada.id, sara.id, ines.id}
        assert len((await ada.expect("call", active=True))["members"]) == 3

        peers = [
            VoicePeer("citizen", tone_hz=440.0),
            VoicePeer("staff", tone_hz=660.0),
            VoicePeer("interpreter", tone_hz=880.0),
        ]
        try:
            for peer, client in zip(peers, (ada, sara, ines), strict=True):
                await peer.connect(signal_through(client))
            for peer in peers:
                await peer.wait_connected(15)
            interpreter = peers[2]
            await interpreter.wait_for_audio(1.0, tracks=2)
            heard = sorted(round(f) for f in interpreter.track_frequencies())
            assert len(heard) == 2 and abs(heard[0] - 440) < 10 and abs(heard[1] - 660) < 10
        finally:
            for peer in peers:
                await peer.close()
