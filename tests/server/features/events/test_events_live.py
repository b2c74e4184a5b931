"""Events on a real server: real WebSocket clients, a real aiortc host, real Redis, real
slides rendered in the worker process.

- a full event sends the next attendee to an overflow instance, which sees the host on
  stage (spotlight) but not the other room's attendees, hears the host's forwarded Opus on
  the listen-only WebSocket path, sees the slide change and reads the captions;
- forged host messages from a citizen are refused with their code; others notice nothing;
- a ban survives a restart and holds against a new display name;
- bad input: a file that is not what it claims, an oversized upload, chunks out of order,
  slides from a non-host, a publish offer from a non-speaker; nothing leaks.
"""

from __future__ import annotations

import asyncio
import io
import time
import urllib.request
from pathlib import Path
from typing import Any

import pypdfium2
from PIL import Image

from agents.client import AgentClient
from agents.voice_peer import VoicePeer
from protocol.messages.events import CHUNK_BYTES
from server.app import ServicePoint
from server.features.events.schedule import local
from tests.server.harness import http_url, running_server, staff_agent, ws_url

TZ = "Europe/Stockholm"


async def create_event(host: AgentClient, capacity: int) -> int:
    now = time.time()
    await host.send(
        {
            "t": "event_create",
            "title": {"en": "Library launch", "sv": "Bibliotekets invigning"},
            "starts": local(now, TZ),
            "ends": local(now + 3600, TZ),
            "capacity": capacity,
        }
    )
    info = await host.expect("event_info")
    assert info["event"]["status"] == "live"
    return int(info["event"]["id"])


async def join(client: AgentClient, event_id: int) -> dict[str, Any]:
    await client.send({"t": "event_join", "event": event_id})
    return await client.expect("event_joined", timeout=15)


def publish_through(client: AgentClient) -> Any:
    async def signal(offer: str) -> str:
        await client.send({"t": "event_rtc_offer", "mode": "publish", "sdp": offer})
        answer = await client.expect("event_rtc_answer", timeout=15)
        return str(answer["sdp"])

    return signal


def two_page_pdf() -> bytes:
    pdf = pypdfium2.PdfDocument.new()
    for _ in range(2):
        pdf.new_page(400, 300)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


async def upload(host: AgentClient, data: bytes, kind: str) -> None:
    await host.send({"t": "event_slides_begin", "type": kind, "size": len(data)})
    upload_id = (await host.expect("event_upload"))["upload"]
    for seq, start in enumerate(range(0, len(data), CHUNK_BYTES)):
        chunk = data[start : start + CHUNK_BYTES]
        await host.send({"t": "event_slides_chunk", "upload": upload_id, "seq": seq, "data": chunk})
    await host.send({"t": "event_slides_end", "upload": upload_id})


def audio_packets(client: AgentClient, speaker: int) -> list[bytes]:
    return [p[3] for m in client.taken("event_audio") for p in m["p"] if p[0] == speaker]


def fetch(sp: ServicePoint, path: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(http_url(sp, path), timeout=10) as reply:
        return reply.status, reply.headers["Content-Type"], reply.read()


async def test_overflow_sees_and_hears_the_stage_and_follows_slides(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp, "Hana Host", role="host") as host,
        staff_agent(sp, "Cai", role="captioner") as captioner,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        event_id = await create_event(host, capacity=1)
        assert (await join(host, event_id))["host"] is True
        await join(captioner, event_id)
        assert (await join(ada, event_id))["instance"] == 0
        assert (await join(bo, event_id))["instance"] == 1  # the auditorium is full
        for client in (ada, bo):
            await client.send({"t": "event_listen", "path": "ws"})

        # Bo, in the overflow room, sees the host on stage but not Ada; Ada not Bo.
        await bo.wait_for(lambda: host.id in bo.others, 10)
        await ada.wait_for(lambda: host.id in ada.others, 10)
        await asyncio.sleep(0.5)  # a few ticks
        assert ada.id not in bo.others and bo.id not in ada.others

        peer = VoicePeer("host", tone_hz=440.0)
        try:
            await peer.connect(publish_through(host))
            await peer.wait_connected(15)
            await bo.wait_for(lambda: len(audio_packets(bo, host.id)) >= 50, 15)
            await ada.wait_for(lambda: len(audio_packets(ada, host.id)) >= 50, 15)
            sent = set(peer.sent_payloads)
            heard = audio_packets(bo, host.id)
            assert heard and set(heard) <= sent  # forwarded byte for byte, never re-encoded
        finally:
            await peer.close()

        await upload(host, two_page_pdf(), "application/pdf")
        for client in (ada, bo):
            stage = await client.expect("event_stage", timeout=30)
            while "slide" not in stage:
                stage = await client.expect("event_stage", timeout=30)
            assert (stage["slide"]["page"], stage["slide"]["pages"]) == (1, 2)
        status, kind, body = await asyncio.to_thread(fetch, sp, stage["slide"]["url"])
        assert status == 200 and kind.startswith("image/")
        assert Image.open(io.BytesIO(body)).size[0] > 0
        await host.send({"t": "event_slide", "page": 2})
        for client in (ada, bo):
            await client.wait_for(
                lambda c=client: any(
                    m.get("slide", {}).get("page") == 2 for m in c.taken("event_stage")
                )
            )

        await captioner.send({"t": "event_caption", "text": "Welcome to the library."})
        for client in (host, ada, bo):
            line = await client.expect("event_caption")
            assert line["text"] == "Welcome to the library."


async def test_forged_host_messages_are_refused_and_nobody_notices(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp, "Hana Host", role="host") as host,
        AgentClient(ws_url(sp), name="Ada") as ada,
        AgentClient(ws_url(sp), name="Bo") as bo,
    ):
        event_id = await create_event(host, capacity=10)
        for client in (host, ada, bo):
            await join(client, event_id)
        await bo.wait_for(lambda: bo.zone == "auditorium" and host.id in bo.others)
        await bo.sync()
        before = len(bo.messages)
        for msg in (
            {"t": "event_promote", "id": ada.id},
            {"t": "event_mute", "id": bo.id, "muted": True},
            {"t": "event_slide", "page": 1},
            {"t": "event_ban", "id": bo.id, "scope": "event"},
            {"t": "event_slides_begin", "type": "image/png", "size": 10},
        ):
            await ada.send(msg)
            error = await ada.expect("error")
            assert (error["code"], error["ref"]) == ("forbidden", msg["t"])
        # A publish offer from an attendee who may not speak: refused, no connection left.
        listener = VoicePeer("ada", tone_hz=660.0)
        try:
            await ada.send(
                {"t": "event_rtc_offer", "mode": "publish", "sdp": await _offer(listener)}
            )
            assert (await ada.expect("error"))["code"] == "not_speaker"
        finally:
            await listener.close()
        assert sp.stage_voice is not None and sp.stage_voice.open_peer_connections == 0
        await bo.sync()
        # The space, as usual (and "load", the hall telling everyone a starved machine's
        # ticks run late).
        ignored = ("pong", "event_counts", "enter", "leave", "history", "load")
        new = [m["t"] for m in bo.messages[before:] if m["t"] not in ignored]
        assert new == [], new


async def _offer(peer: VoicePeer) -> str:
    await peer.pc.setLocalDescription(await peer.pc.createOffer())
    description = peer.pc.localDescription
    assert description is not None
    return str(description.sdp)


async def test_a_ban_survives_a_restart_and_a_new_name(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp, "Hana Host", role="host", subject="hana") as host,
        AgentClient(ws_url(sp), name="Troll") as troll,
    ):
        event_id = await create_event(host, capacity=10)
        for client in (host, troll):
            await join(client, event_id)
        key = troll.citizen
        await host.send({"t": "event_ban", "id": troll.id, "scope": "event", "reason": "abuse"})
        assert (await troll.expect("event_left"))["reason"] == "abuse"
    async with (
        running_server(tmp_path) as sp,
        AgentClient(ws_url(sp), name="Friendly Name", citizen=key) as again,
        AgentClient(ws_url(sp), name="Someone") as other,
    ):
        await again.send({"t": "event_join", "event": event_id})
        assert (await again.expect("error"))["code"] == "banned"
        await join(other, event_id)  # the event itself survived the restart


async def test_bad_slides_get_their_codes_and_leave_nothing(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path) as sp,
        staff_agent(sp, "Hana Host", role="host") as host,
    ):
        event_id = await create_event(host, capacity=10)
        await join(host, event_id)
        await upload(host, b"%!PS-Adobe-3.0 not a pdf at all", "application/pdf")
        assert (await host.expect("error", timeout=30))["code"] == "bad_file"
        png = io.BytesIO()
        Image.new("RGB", (20, 20), "white").save(png, "PNG")
        await upload(host, png.getvalue(), "application/pdf")  # a PNG that claims to be a PDF
        assert (await host.expect("error", timeout=30))["code"] == "bad_file"
        await host.send({"t": "event_slides_begin", "type": "application/pdf", "size": 2**30})
        assert (await host.expect("error"))["code"] == "file_too_large"
        await host.send({"t": "event_slides_begin", "type": "image/png", "size": 100})
        upload_id = (await host.expect("event_upload"))["upload"]
        await host.send({"t": "event_slides_chunk", "upload": upload_id, "seq": 3, "data": b"x"})
        assert (await host.expect("error"))["code"] == "upload_order"
        await host.send({"t": "event_slides_end", "upload": upload_id})
        assert (await host.expect("error"))["code"] == "no_upload"
        root = tmp_path / "events" / "slides"
        assert not root.exists() or not any(p.name.startswith(".") for p in root.iterdir())
