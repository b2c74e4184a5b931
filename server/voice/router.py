"""`VoiceRouter`: WebRTC voice rooms, terminated by the server, audio routed inside a room.

Every participant holds exactly one `RTCPeerConnection`, with the server. Audio from
a room member is sent to the other members of that room only: the routing table is
rebuilt from the room's member list on every join/leave, and a member's packets are
only ever pushed into slots (`OutboundVoice`) owned by listeners of the same room.

Two ways to route, chosen per router:

- `forward=True` (default): the Opus payload of each inbound RTP packet is handed to
  each listener's sender unchanged (see `aiortc_internals.tap_inbound_rtp`). No
  decoder or encoder runs for the relayed audio.
- `forward=False`: aiortc's default path: the server decodes each speaker and each
  listener's sender re-encodes. Kept to measure the difference (`bench/voice.py`).

Listening: a client can receive one other speaker per audio m-line it offers with a
receive direction (sendrecv or recvonly). A desk call has at most three members, so
a client should offer two: its microphone on the first (sendrecv) and one recvonly.
With fewer m-lines than other speakers, speakers share the last slot, one at a time.

Signalling is plain async methods taking/returning strings and dicts, so the
WebSocket handler can call them directly; every refusal is a `VoiceError` with a
stable code, and a refused request never leaves a peer connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from server.tasks import Tasks
from server.voice.aiortc_internals import (
    check_aiortc_compatible,
    outlet_for,
    restrict_host_addresses,
    tap_inbound_rtp,
)
from server.voice.errors import (
    BAD_CANDIDATE,
    BAD_SDP,
    CLOSED,
    NO_ROOM,
    NOT_MEMBER,
    ROOM_FULL,
    VoiceError,
)
from server.voice.signalling import Offer, check_offer, parse_candidate
from server.voice.tracks import ForwardedVoice, OutboundVoice

log = logging.getLogger(__name__)

_OPUS = [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType == "audio/opus"]


async def negotiate(pc: RTCPeerConnection, offer: Offer, configure: Callable[[], None]) -> str:
    """Answer a checked `offer` on a fresh `pc`; returns the answer SDP (with all of
    our ICE candidates). `configure` runs once the offer is applied: it sets each
    transceiver's direction and tracks (see `VoiceRouter._configure`). Raises
    whatever aiortc raises; the caller closes `pc` then. Shared with the stage
    (`server/voice/stage.py`)."""
    # Transceivers created before the offer is applied take its m-lines in order;
    # preferring Opus only makes aiortc negotiate Opus or fail, so a forwarded
    # payload is never sent under another codec's payload type.
    for _ in range(offer.audio_lines):
        transceiver = pc.addTransceiver("audio", direction="inactive")
        transceiver.setCodecPreferences(_OPUS)
    await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
    configure()
    await pc.setLocalDescription(await pc.createAnswer())
    answer = pc.localDescription
    assert answer is not None
    return str(answer.sdp)


MAX_MEMBERS = 3
"""Citizen, staff, and one participant added by staff (interpreter, colleague)."""


@dataclass(eq=False)
class _Member:
    id: str
    pc: RTCPeerConnection
    offer: Offer
    slots: list[ForwardedVoice | OutboundVoice] = field(default_factory=list)
    """This member's receive slots, one per m-line they can hear on."""
    transceivers: list[Any] = field(default_factory=list)
    """The transceiver of each slot, in the same order."""
    listeners: list[ForwardedVoice] = field(default_factory=list)
    """Forwarding: slots of other members of the same room this member's voice goes to."""
    frame_listeners: list[OutboundVoice] = field(default_factory=list)
    """Transcoding: the same, for decoded frames."""
    muted: bool = False
    pumps: list[asyncio.Task[None]] = field(default_factory=list)
    timeout: asyncio.TimerHandle | None = None


@dataclass(eq=False)
class _Room:
    id: str
    members: dict[str, _Member] = field(default_factory=dict)
    """In join order: the order decides which slot of a listener a speaker gets."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False


@dataclass
class VoiceStats:
    """Counters since the router was created (for tests, metrics and the benchmark)."""

    packets_received: int = 0
    """RTP packets taken from members' microphones (forwarding mode)."""
    packets_forwarded: int = 0
    """Opus payloads handed to listeners' senders, one per listener."""
    frames_decoded: int = 0
    """PCM frames the server decoded (transcoding mode only; 0 when forwarding)."""
    frames_relayed: int = 0
    """Decoded frames handed to listeners' senders for re-encoding."""
    dropped_muted: int = 0
    """Packets or frames not relayed because their speaker was muted."""


class VoiceRouter:
    """One per server process. All methods must be called from the event loop thread.

    `host_addresses`: if given, ICE host candidates are gathered only on these
    literal IP addresses, process-wide (tests and benchmarks pass ["127.0.0.1"]; a
    deployment passes its public address). `connect_timeout`: a participant whose
    connection is not up this many seconds after `join` is dropped, so a client that
    never completes ICE cannot hold a peer connection.
    """

    def __init__(
        self,
        *,
        forward: bool = True,
        host_addresses: Sequence[str] | None = None,
        connect_timeout: float = 30.0,
        max_members: int = MAX_MEMBERS,
        tasks: Tasks | None = None,
    ) -> None:
        check_aiortc_compatible()
        if host_addresses is not None:
            restrict_host_addresses(host_addresses)
        self.forward = forward
        self.connect_timeout = connect_timeout
        self.max_members = max_members
        self.stats = VoiceStats()
        self._rooms: dict[str, _Room] = {}
        self._pcs: set[RTCPeerConnection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._owner = tasks
        """The lifespan's `Tasks`, when the router runs inside a server."""
        self._closed = False

    # -- rooms -----------------------------------------------------------------

    async def open_room(self, room_id: str) -> None:
        """Open a room. Opening a room that is already open does nothing."""
        self._check_open()
        if room_id not in self._rooms:
            self._rooms[room_id] = _Room(room_id)

    async def close_room(self, room_id: str) -> None:
        """Close a room and every peer connection in it. Unknown rooms are ignored.

        When this returns, the room's peer connections are closed and counted out of
        `open_peer_connections`.
        """
        room = self._rooms.pop(room_id, None)
        if room is None:
            return
        room.closed = True
        members = list(room.members.values())
        room.members.clear()
        await asyncio.gather(*(self._dispose(m) for m in members))

    def members(self, room_id: str) -> list[str]:
        """Participant ids in the room, in join order. Raises `no_room`."""
        return list(self._room(room_id).members)

    def connection_states(self, room_id: str) -> dict[str, str]:
        """Each member's WebRTC connection state ("new", "connecting", "connected",
        …), in join order. Raises `no_room`."""
        return {m.id: m.pc.connectionState for m in self._room(room_id).members.values()}

    @property
    def open_peer_connections(self) -> int:
        """Peer connections created and not yet fully closed (joins in progress too)."""
        return len(self._pcs)

    # -- participants ------------------------------------------------------------

    async def join(self, room_id: str, participant: str, offer_sdp: str) -> str:
        """Connect `participant` to the room with their SDP offer; return the answer SDP.

        The answer carries all of the server's ICE candidates (no trickle needed). A
        participant who joins again (e.g. after a page reload) replaces their previous
        connection. Raises `VoiceError`: no_room, room_full, bad_sdp, no_audio,
        no_opus, closed. On any error no peer connection is left open.
        """
        self._check_open()
        room = self._room(room_id)
        offer = check_offer(offer_sdp)
        async with room.lock:
            if room.closed:
                raise VoiceError(NO_ROOM, f"Room {room_id!r} was closed.")
            if participant not in room.members and len(room.members) >= self.max_members:
                raise VoiceError(ROOM_FULL, f"Room {room_id!r} has {self.max_members} members.")
            member = await self._connect(participant, offer)
            if room.closed or self._closed:
                await self._dispose(member)
                raise VoiceError(NO_ROOM, f"Room {room_id!r} was closed.")
            previous = room.members.pop(participant, None)
            room.members[participant] = member
            self._reroute(room)
            if previous is not None:
                await self._dispose(previous)
        self._watch(room, member)
        description = member.pc.localDescription
        assert description is not None
        return str(description.sdp)

    async def add_ice(self, room_id: str, participant: str, candidate: dict[str, Any]) -> None:
        """Add a trickled remote ICE candidate (optional: offers usually carry them all).

        A malformed candidate raises `bad_candidate` and closes the participant's
        connection (they leave the room and must join again): a client that sends
        garbage is not left half-connected. Also raises no_room, not_member.
        """
        room = self._room(room_id)
        member = room.members.get(participant)
        if member is None:
            raise VoiceError(NOT_MEMBER, f"{participant!r} is not in room {room_id!r}.")
        try:
            parsed = parse_candidate(candidate)
            await member.pc.addIceCandidate(parsed)
        except VoiceError:
            await self._remove(room, member)
            raise
        except Exception as exc:  # aioice rejected it (e.g. unresolvable address)
            await self._remove(room, member)
            raise VoiceError(BAD_CANDIDATE, f"The candidate was refused: {exc!r}") from None

    async def leave(self, room_id: str, participant: str) -> None:
        """Disconnect `participant`; their peer connection is closed on return.

        Raises no_room, not_member (also when leaving twice).
        """
        room = self._room(room_id)
        member = room.members.get(participant)
        if member is None:
            raise VoiceError(NOT_MEMBER, f"{participant!r} is not in room {room_id!r}.")
        await self._remove(room, member)

    def set_muted(self, room_id: str, participant: str, muted: bool) -> None:
        """Stop (or resume) relaying `participant`'s microphone to the room.

        Takes effect for the next packet; listeners then receive no packets from
        them. Raises no_room, not_member.
        """
        room = self._room(room_id)
        member = room.members.get(participant)
        if member is None:
            raise VoiceError(NOT_MEMBER, f"{participant!r} is not in room {room_id!r}.")
        member.muted = muted

    async def close(self) -> None:
        """Close every room and peer connection; later calls raise `closed`."""
        self._closed = True
        await asyncio.gather(*(self.close_room(r) for r in list(self._rooms)))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- internals ---------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise VoiceError(CLOSED, "The voice router is shut down.")

    def _room(self, room_id: str) -> _Room:
        room = self._rooms.get(room_id)
        if room is None:
            raise VoiceError(NO_ROOM, f"No voice room {room_id!r}.")
        return room

    async def _connect(self, participant: str, offer: Offer) -> _Member:
        """Create the peer connection and answer. Closes it on any failure."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._pcs.add(pc)
        member = _Member(participant, pc, offer)
        try:
            answer = await negotiate(pc, offer, lambda: self._configure(member))
            for slot, transceiver in zip(member.slots, member.transceivers, strict=True):
                if isinstance(slot, ForwardedVoice):
                    slot.outlet = outlet_for(transceiver, answer)
        except Exception as exc:
            await self._dispose(member)
            if isinstance(exc, VoiceError):
                raise
            raise VoiceError(BAD_SDP, f"The offer was refused: {exc!r}") from None
        return member

    def _configure(self, member: _Member) -> None:
        """Attach one outbound slot per receive m-line; take audio from the first
        sending m-line only, and refuse media on the others."""
        took_microphone = False
        for transceiver in member.pc.getTransceivers():
            offered = member.offer.directions.get(transceiver.mid or "", "inactive")
            client_receives = offered in ("recvonly", "sendrecv")
            client_sends = offered in ("sendonly", "sendrecv")
            use_microphone = client_sends and not took_microphone
            if client_receives:
                slot: ForwardedVoice | OutboundVoice
                if self.forward:
                    slot = ForwardedVoice()
                    transceiver.sender.replaceTrack(slot.idle_track)
                else:
                    slot = OutboundVoice()
                    transceiver.sender.replaceTrack(slot)
                member.slots.append(slot)
                member.transceivers.append(transceiver)
            if use_microphone:
                took_microphone = True
                self._take_microphone(member, transceiver.receiver)
            transceiver.direction = direction(send=client_receives, receive=use_microphone)

    def _take_microphone(self, member: _Member, receiver: Any) -> None:
        if self.forward:
            stats = self.stats

            def on_packet(packet: Any) -> None:
                stats.packets_received += 1
                if member.muted:
                    stats.dropped_muted += 1
                    return
                for slot in member.listeners:
                    slot.push_payload(member, packet.timestamp, packet.payload)
                stats.packets_forwarded += len(member.listeners)

            tap_inbound_rtp(receiver, on_packet)
        else:
            track = receiver.track
            assert track is not None
            member.pumps.append(asyncio.ensure_future(self._pump(member, track)))

    async def _pump(self, member: _Member, track: MediaStreamTrack) -> None:
        """Transcoding mode: relay decoded frames of one speaker to their listeners."""
        stats = self.stats
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                stats.frames_decoded += 1
                if not isinstance(frame, AudioFrame):
                    continue
                if member.muted:
                    stats.dropped_muted += 1
                    continue
                for slot in member.frame_listeners:
                    slot.push_frame(member, frame)
                stats.frames_relayed += len(member.frame_listeners)

    @staticmethod
    def _reroute(room: _Room) -> None:
        """Rebuild who hears whom from the member list: only within this room."""
        members = list(room.members.values())
        for member in members:
            member.listeners = []
            member.frame_listeners = []
        for listener in members:
            if not listener.slots:
                continue
            speakers = [m for m in members if m is not listener]
            for i, speaker in enumerate(speakers):
                slot = listener.slots[min(i, len(listener.slots) - 1)]
                if isinstance(slot, ForwardedVoice):
                    speaker.listeners.append(slot)
                else:
                    speaker.frame_listeners.append(slot)

    def _watch(self, room: _Room, member: _Member) -> None:
        """Drop the member if their connection fails, closes, or never comes up."""
        pc = member.pc

        def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self._spawn(self._remove(room, member))
            elif pc.connectionState == "connected" and member.timeout is not None:
                member.timeout.cancel()
                member.timeout = None

        pc.on("connectionstatechange", on_state)
        if pc.connectionState != "connected":
            loop = asyncio.get_running_loop()
            member.timeout = loop.call_later(
                self.connect_timeout, lambda: self._spawn(self._remove(room, member))
            )

    def _spawn(self, coro: Any) -> None:
        if self._owner is not None:
            self._owner.spawn(coro, name="voice")
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _remove(self, room: _Room, member: _Member) -> None:
        """Take `member` out of `room` (if still there) and close their connection."""
        if room.members.get(member.id) is member:
            del room.members[member.id]
            self._reroute(room)
        await self._dispose(member)

    async def _dispose(self, member: _Member) -> None:
        """Close a member's connection; idempotent, never raises."""
        if member.timeout is not None:
            member.timeout.cancel()
            member.timeout = None
        member.listeners = []
        member.frame_listeners = []
        for slot in member.slots:
            slot.stop()
        for pump in member.pumps:
            pump.cancel()
        pc = member.pc
        try:
            await pc.close()
        except Exception:  # closing must not fail the caller; log why
            log.warning("closing a voice peer connection failed", exc_info=True)
        finally:
            self._pcs.discard(pc)
        if member.pumps:
            await asyncio.gather(*member.pumps, return_exceptions=True)


def direction(*, send: bool, receive: bool) -> str:
    """The SDP direction of our side of an m-line."""
    if send and receive:
        return "sendrecv"
    if send:
        return "sendonly"
    if receive:
        return "recvonly"
    return "inactive"
