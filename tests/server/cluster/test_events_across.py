"""Events across processes: one process (the feature home) runs every event for
attendees connected anywhere (`server.cluster.stage`).

A host on one process runs an event whose audience is on both: a full auditorium
sends an attendee on the other process to an overflow instance, which sees the host
on stage but not the first room's attendees; the host's forwarded Opus reaches the
listen-only WebSocket listeners of both processes byte for byte (it crossed the bus
once); slides uploaded through the other process render at home and are fetched from
either; captions, raised hands and a kick cross; a block set on one process holds on
the other.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from PIL import Image

from agents.client import AgentClient
from agents.voice_peer import VoicePeer
from server.app import ServicePoint
from tests.server.cluster.conftest import shared_space, until
from tests.server.features.events.test_events_live import (
    audio_packets,
    create_event,
    fetch,
    join,
    publish_through,
    two_page_pdf,
    upload,
)
from tests.server.harness import staff_agent, ws_url


def subject_of(sp: ServicePoint, entity: int) -> str:
    person = sp.hub.get(entity)
    assert person is not None
    return person.subject


async def test_an_event_on_two_processes_stages_hears_and_moderates_as_one(
    tmp_path: Path,
) -> None:
    async with shared_space(tmp_path) as (a, b):
        assert a.home is not None and a.home.is_home
        async with (
            staff_agent(b, "Hana Host", role="host") as host,
            staff_agent(a, "Cai", role="captioner") as captioner,
            AgentClient(ws_url(a), name="Ada") as ada,
            AgentClient(ws_url(b), name="Bo") as bo,
        ):
            # The host is on b: creating and joining are forwarded to the home.
            event_id = await create_event(host, capacity=1)
            assert (await join(host, event_id))["host"] is True
            await join(captioner, event_id)
            assert (await join(ada, event_id))["instance"] == 0
            assert (await join(bo, event_id))["instance"] == 1  # full: overflow, on b
            for client in (ada, bo):
                await client.send({"t": "event_listen", "path": "ws"})

            # Staged by the home on both processes: Bo (overflow, on b) sees the host on
            # stage; Ada (on a) sees the host's replica on stage; they never see each other.
            await bo.wait_for(lambda: host.id in bo.others, 15)
            await ada.wait_for(lambda: host.id in ada.others, 15)
            await asyncio.sleep(0.5)  # a few ticks of both processes
            assert ada.id not in bo.others and bo.id not in ada.others
            b_slot = b.space.by_id[bo.id].slot
            assert (b.space.layer[b_slot], bool(b.space.audience[b_slot])) == (1, True)
            assert bool(a.space.spotlight[a.space.by_id[host.id].slot])  # a replica, spotlit

            # The host speaks: signalling forwarded from b, media to the home; the
            # listen-only audio reaches both processes' listeners as it was sent.
            peer = VoicePeer("host", tone_hz=440.0)
            try:
                await peer.connect(publish_through(host))
                await peer.wait_connected(15)
                await bo.wait_for(lambda: len(audio_packets(bo, host.id)) >= 50, 20)
                await ada.wait_for(lambda: len(audio_packets(ada, host.id)) >= 50, 20)
                sent = set(peer.sent_payloads)
                for client in (ada, bo):
                    heard = audio_packets(client, host.id)
                    assert heard and set(heard) <= sent  # byte for byte, never re-encoded
                assert a.stage_voice is not None and a.stage_voice.open_peer_connections == 1
                assert b.stage_voice is not None and b.stage_voice.open_peer_connections == 0
            finally:
                await peer.close()

            # Slides uploaded through b render at the home; b's HTTP serves them.
            await upload(host, two_page_pdf(), "application/pdf")
            stage = await bo.expect("event_stage", timeout=30)
            while "slide" not in stage:
                stage = await bo.expect("event_stage", timeout=30)
            assert (stage["slide"]["page"], stage["slide"]["pages"]) == (1, 2)
            for sp in (a, b):
                status, kind, body = await asyncio.to_thread(fetch, sp, stage["slide"]["url"])
                assert status == 200 and kind.startswith("image/")
                assert Image.open(io.BytesIO(body)).size[0] > 0
            status, _, body = await asyncio.to_thread(fetch, b, "/api/events/schedule")
            listed = json.loads(body)
            assert status == 200 and event_id in [e["id"] for e in listed["events"]]

            # A caption from a reaches everyone; Bo's raised hand (b) reaches the host.
            await captioner.send({"t": "event_caption", "text": "Welcome to the library."})
            for client in (host, ada, bo):
                line = await client.expect("event_caption", timeout=15)
                assert line["text"] == "Welcome to the library."
            await bo.send({"t": "event_hand", "up": True})
            await host.wait_for(
                lambda: any(
                    h["id"] == bo.id for m in host.taken("event_hands") for h in m["queue"]
                ),
                15,
            )

            # Ada (on a) blocks Bo: b holds it too (chat and stage voice ask there).
            ada_subject, bo_subject = subject_of(a, ada.id), subject_of(b, bo.id)
            await ada.send({"t": "block", "id": bo.id, "on": True})
            assert (await ada.expect("blocked", timeout=15))["ids"] == [bo.id]
            assert b.blocks is not None
            await until(lambda: b.blocks is not None and b.blocks.between(ada_subject, bo_subject))

            # The host (on b) kicks Ada (on a): she leaves the event, and is unstaged.
            await host.send({"t": "event_kick", "id": ada.id, "reason": "testing"})
            left = await ada.expect("event_left", timeout=15)
            assert left["event"] == event_id
            a_slot = a.space.by_id[ada.id].slot
            await until(lambda: not bool(a.space.audience[a_slot]))


async def test_when_the_home_goes_the_audience_is_seated_again_by_the_new_home(
    tmp_path: Path,
) -> None:
    async with shared_space(tmp_path, cluster_lease_s=0.5, resume_s=30) as (a, b):
        assert a.home is not None and a.home.is_home
        async with (
            staff_agent(b, "Hana Host", role="host") as host,
            AgentClient(ws_url(b), name="Bo") as bo,
        ):
            event_id = await create_event(host, capacity=10)
            await join(bo, event_id)
            await a.stop()  # the home goes, and the live attendance with it
            await until(lambda: b.home is not None and b.home.ready, timeout=15)
            # Bo is still in the auditorium: the new home (b) seats him again.
            again = await bo.expect("event_joined", timeout=15)
            assert again["event"]["id"] == event_id
            slot = b.space.by_id[bo.id].slot
            await until(lambda: bool(b.space.audience[slot]))
