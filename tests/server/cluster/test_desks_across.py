"""The desks across processes: one queue for the whole cluster, run by the feature home
(`server.cluster.home`), which the other processes forward desk messages and hooks to.

Staff on one process serve citizens on both, in arrival order; the staff member is
placed behind the desk on their own process; a desk call between a citizen on one
process and staff on the other carries audio both ways (FFT), its signalling
forwarded to the home and the media flowing between each client and the home; when
the home goes, the other process takes over the queue from the shared log.
"""

from __future__ import annotations

import math
from pathlib import Path

from agents.client import AgentClient
from agents.voice_peer import VoicePeer
from protocol.codec import encode
from server.cluster.codec import Forward
from server.cluster.home import identity_of
from tests.server.cluster.conftest import shared_space, until
from tests.server.features.desks.test_desk_voice import signal_through
from tests.server.harness import desk_events, staff_agent, ws_url


async def test_one_queue_and_a_desk_call_with_voice_across_two_processes(
    tmp_path: Path,
) -> None:
    async with shared_space(tmp_path) as (a, b):
        assert a.home is not None and b.home is not None
        assert a.home.is_home and not b.home.is_home  # the first to start is the home
        async with (
            staff_agent(b, "Sara Lind", subject="sara") as sara,
            AgentClient(ws_url(a), name="Ada") as ada,
            AgentClient(ws_url(b), name="Bo") as bo,
        ):
            # Sara, on b, goes on duty: the home places her behind the desk, on b.
            await sara.send({"t": "duty", "status": "available", "desk": "desk-2"})
            duty = await sara.expect("duty", timeout=15)
            assert duty["status"] == "available" and duty["desk"] == "desk-2"
            desk = b.world.desk("desk-2")
            assert desk is not None
            await sara.expect("correct", timeout=15)
            x, z = b.space.positions[b.space.by_id[sara.id].slot].tolist()
            assert math.dist((x, z), desk.position) < 0.5

            # Ada (on a, the home) and then Bo (on b) take tickets: one queue.
            await ada.send({"t": "take_ticket", "service": "general", "lang": "sv"})
            ada_ticket = await ada.expect("ticket", timeout=15)
            await bo.send({"t": "take_ticket", "service": "general", "lang": "sv"})
            bo_ticket = await bo.expect("ticket", timeout=15)
            assert ada_ticket["ticket"] != bo_ticket["ticket"]
            assert bo_ticket["position"] == ada_ticket["position"] + 1

            # A bad desk message from b gets the home's error, relayed back.
            await bo.send({"t": "call_next"})
            refused = await bo.expect("error", timeout=15)
            assert refused["ref"] == "call_next" and refused["code"] == "forbidden"

            # Sara calls the first in line: Ada, on the other process.
            await sara.send({"t": "call_next"})
            case = await sara.expect("case", timeout=15)
            assert case["ticket"] == ada_ticket["ticket"]
            await ada.expect("called", timeout=15)
            await ada.send({"t": "respond"})
            call = await ada.expect("call", active=True, timeout=15)
            await sara.expect("call", active=True, timeout=15)
            assert {m["id"] for m in call["members"]} == {ada.id, sara.id}

            citizen = VoicePeer("citizen", tone_hz=440.0)
            staff = VoicePeer("staff", tone_hz=660.0)
            try:
                await citizen.connect(signal_through(ada))
                await staff.connect(signal_through(sara))  # forwarded from b to a
                await citizen.wait_connected(15)
                await staff.wait_connected(15)
                await staff.wait_for_audio(1.0)
                await citizen.wait_for_audio(1.0)
                assert abs(staff.dominant_frequency() - 440.0) < 10.0
                assert abs(citizen.dominant_frequency() - 660.0) < 10.0
                # Both peers terminate at the home, none at b.
                assert a.voice is not None and a.voice.open_peer_connections == 2
                assert b.voice is not None and b.voice.open_peer_connections == 0

                await sara.send({"t": "desk_say", "text": "Hej Ada"})
                line = await ada.expect("desk_say", timeout=15)
                assert line["text"] == "Hej Ada"

                await sara.send({"t": "close_case", "outcome": "resolved"})
                await ada.expect("call", active=False, timeout=15)
                await sara.expect("call", active=False, timeout=15)
            finally:
                await citizen.close()
                await staff.close()

            # Next in line is Bo, on Sara's own process.
            await sara.send({"t": "call_next"})
            await sara.expect("case", ticket=bo_ticket["ticket"], status="called", timeout=15)
            await bo.expect("called", timeout=15)

        # Every change was written once, by the home, to the one log both read.
        events = await desk_events(b)
        arrived = [e["ticket"] for e in events if e["type"] == "arrived"]
        assert arrived == [ada_ticket["ticket"], bo_ticket["ticket"]]
        assert [e["type"] for e in events if e["ticket"] == ada_ticket["ticket"]] == [
            "arrived",
            "called",
            "started",
            "ended",
        ]


async def test_when_the_home_stops_the_other_process_takes_over_the_queue(
    tmp_path: Path,
) -> None:
    async with shared_space(tmp_path, cluster_lease_s=0.5, resume_s=30) as (a, b):
        assert a.home is not None and b.home is not None and a.home.is_home
        async with AgentClient(ws_url(b), name="Bo") as bo:
            await bo.send({"t": "take_ticket", "service": "general", "lang": "sv"})
            ticket = (await bo.expect("ticket", timeout=15))["ticket"]
            await a.stop()  # the home goes; Bo's ticket is in the shared log
            await until(lambda: b.home is not None and b.home.ready, timeout=15)
            assert b.home.is_home
            async with staff_agent(b, "Sara Lind", subject="sara") as sara:
                await sara.send({"t": "duty", "status": "available", "desk": "desk-2"})
                await sara.expect("duty", timeout=15)
                await sara.send({"t": "call_next"})
                case = await sara.expect("case", timeout=15)
                assert case["ticket"] == ticket  # the queue came through the takeover
                await bo.expect("called", timeout=15)


async def test_a_message_forwarded_to_a_process_that_is_no_longer_home_is_refused(
    tmp_path: Path,
) -> None:
    """The lease moved while a forward was on its way: the old home says ``not_ready``
    (the client tries again) instead of leaving the client waiting for an answer."""
    async with shared_space(tmp_path) as (a, b):
        assert a.home is not None and a.home.is_home
        assert b.home is not None and b.replication is not None and a.replication is not None
        async with AgentClient(ws_url(a), name="Ada") as ada:
            person = a.hub.get(ada.id)
            assert person is not None
            ticket = {"t": "take_ticket", "service": "general", "lang": "sv"}
            forward = Forward(
                a.replication.origin, "desks", "message", identity_of(person), encode(ticket)
            )
            a.replication.post(b.replication.origin, forward)  # as if b were the home
            refused = await ada.expect("error", timeout=15)
            assert (refused["code"], refused["ref"]) == ("not_ready", "take_ticket")
            assert not ada.taken("ticket")
