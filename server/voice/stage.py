"""`StageVoice`: event audio from a stage to many listeners, Opus forwarded, never decoded.

One `StageVoice` per process, beside the desks' `VoiceRouter`: separate stages,
separate peer connections, so nothing of a desk call reaches a stage and nothing of
a stage a desk call.

    stage = StageVoice(host_addresses=["203.0.113.7"])
    await stage.open_stage("event:12")
    stage.allow("event:12", "host-3", True)          # the server decides who is heard
    answer = await stage.publish("event:12", "host-3", offer_sdp)
    answer = await stage.listen("event:12", "guest-9", offer_sdp)   # WebRTC listener
    stage.attach_ws("event:12", "guest-10")          # WebSocket listener
    packets = stage.take_ws_batch("event:12")         # every tick: (who, seq, ts, opus)
    await stage.close_stage("event:12")

**Speakers.** A publisher's peer connection takes its microphone from the first
m-line the client sends on; its receive m-lines (the microphone's own if sendrecv,
then recvonly ones) carry the other current speakers. Speaking is a server
permission (`allow`): a publish offer from someone not allowed is refused
(`not_speaker`), and packets of a publisher no longer allowed are dropped where
they arrive (`stats.dropped_not_allowed`) until they are allowed again.

**The loudest `loudest`.** The stage has `loudest` slots (3 by default). A speaker
talking takes a free slot, or the slot of a holder silent for `HOLD_SECONDS`
(300 ms, as the desk router's shared slots); a holder keeps their slot while they
talk, so the assignment is stable. When several wait for a freed slot the loudest
gets it. Talking and loudness come from the RFC 6464 audio level header extension
(`ssrc-audio-level`, sent by browsers) when a packet carries it, else from the
smoothed Opus payload size (louder, busier audio takes more bytes; digital silence
and comfort noise stay small). Only slot holders are forwarded; the packets of the
others are dropped (`stats.dropped_not_loudest`).

**Listeners.** A WebRTC listener (`listen`) offers recvonly m-lines; each carries one
stage slot (up to `loudest`; a listener with fewer m-lines hears the first slots
that fit), so the browser mixes. Nobody hears themselves. At most
`webrtc_listener_budget` WebRTC listeners per process (`listener_budget` beyond:
the client uses the WebSocket path). A WebSocket listener (`attach_ws`) receives
the same packets through `take_ws_batch`, which the caller's tick encodes once for
all of a stage's WebSocket listeners; if nobody takes it, it keeps the last second.

**Forwarding.** As in `VoiceRouter` (see docs/VOICE.md): the SRTP packet is taken in
aioice's datagram callback (`aiortc_internals.tap_inbound_rtp`), decrypted, its
payload pushed into each listener slot's `ForwardedVoice` and sent at once by its
`RtpOutlet`. No decoder or encoder runs, no task, no queue: the cost per packet is
one SRTP unprotect and, per listener, one SRTP protect and one `sendto`.

`block(a, b)` stops WebRTC forwarding between a and b both ways; `ws_blocked`
tells the WebSocket tick whom to leave out of a listener's batch.

Every refusal is a `VoiceError`; a refused request, a leave, `close_stage`, a
connection that fails or closes, or one not up within `connect_timeout` leaves no
peer connection open (`open_peer_connections`). All methods must be called from
the event loop thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiortc import RTCConfiguration, RTCPeerConnection

from server.tasks import Tasks
from server.voice.aiortc_internals import (
    AUDIO_LEVEL_URI,
    check_aiortc_compatible,
    header_extension_id,
    outlet_for,
    restrict_host_addresses,
    tap_inbound_rtp,
)
from server.voice.errors import (
    BAD_SDP,
    CLOSED,
    LISTENER_BUDGET,
    NO_AUDIO,
    NO_ROOM,
    NOT_SPEAKER,
    VoiceError,
)
from server.voice.router import direction, negotiate
from server.voice.signalling import Offer, check_offer
from server.voice.tracks import HOLD_SECONDS, ForwardedVoice

log = logging.getLogger(__name__)

__all__ = [
    "LISTENER_BUDGET",
    "NOT_SPEAKER",
    "StageStats",
    "StageVoice",
    "WsPacket",
]

WsPacket = tuple[str, int, int, bytes]
"""(speaker participant id, RTP sequence number, RTP timestamp at 48 kHz, Opus payload)."""

VOICED_LEVEL: Final = 60
"""A packet whose RFC 6464 level is at most this (louder than -60 dBov) is speech."""
VOICED_BYTES: Final = 50.0
"""Without audio levels: a smoothed Opus payload of this many bytes or more is speech
(at 32 kbit/s speech or a tone takes ~110 bytes per 20 ms, digital silence ~35)."""
SMOOTHING: Final = 0.2
"""Weight of each new packet in a speaker's smoothed loudness (~100 ms at 50 packets/s)."""
WAITING_SECONDS: Final = 0.1
"""A speaker who talked this recently competes (by loudness) for a freed slot."""
PACKETS_PER_SECOND: Final = 50
WS_BACKLOG_SECONDS: Final = 1.0
"""`take_ws_batch` keeps at most this much (per slot) when nobody takes it."""

_RECEIVES = ("recvonly", "sendrecv")
_SENDS = ("sendonly", "sendrecv")


@dataclass
class StageStats:
    """Counters since the `StageVoice` was created, and gauges (current values)."""

    packets_received: int = 0
    """RTP packets taken from publishers' microphones."""
    packets_forwarded: int = 0
    """Opus payloads handed to WebRTC listener slots (one per listener and packet)."""
    dropped_not_allowed: int = 0
    """Packets dropped because their publisher is not allowed to speak (now)."""
    dropped_not_loudest: int = 0
    """Packets of allowed publishers dropped because they hold no stage slot."""
    packets_with_audio_level: int = 0
    """Packets that carried an RFC 6464 audio level (the rest are judged by size)."""
    ws_packets: int = 0
    """Packets put into WebSocket batches (once per packet, whatever the listeners)."""
    ws_dropped: int = 0
    """Batched packets dropped because nobody took the batch for `WS_BACKLOG_SECONDS`."""
    webrtc_listeners: int = 0
    """Gauge: WebRTC listener connections (`listen`), all stages; the budget counts these."""
    publishers: int = 0
    """Gauge: publisher connections (`publish`), all stages."""
    ws_listeners: int = 0
    """Gauge: WebSocket listeners attached, all stages."""


class _StageSlot(ForwardedVoice):
    """A listener's slot: the stage decides who speaks on it (one speaker at a time),
    so a new holder's first packet takes it over at once."""

    def accepts(self, source: object) -> bool:
        return True


class _Speaker:
    """Media state of one publisher connection."""

    __slots__ = ("allowed", "id", "last_voiced", "level", "slot")

    def __init__(self, participant: str, allowed: bool) -> None:
        self.id = participant
        self.allowed = allowed
        self.level = -1.0
        """Smoothed loudness: 127 - RFC 6464 level, or payload bytes; -1 before any."""
        self.last_voiced = -1e9
        self.slot: int | None = None
        """Index of the stage slot held, if any."""


@dataclass(eq=False)
class _Peer:
    id: str
    stage: _Stage
    publishing: bool
    pc: RTCPeerConnection
    speaker: _Speaker | None = None
    """Publishers only: the microphone's state."""
    slots: list[_StageSlot] = field(default_factory=list)
    """One per receive m-line (at most `loudest`)."""
    transceivers: list[Any] = field(default_factory=list)
    carrying: list[int | None] = field(default_factory=list)
    """For each of `slots`, the index of the stage slot it carries."""
    timeout: asyncio.TimerHandle | None = None


@dataclass(eq=False)
class _Stage:
    id: str
    loudest: int
    allowed: set[str] = field(default_factory=set)
    publishers: dict[str, _Peer] = field(default_factory=dict)
    listeners: dict[str, _Peer] = field(default_factory=dict)
    holders: list[_Speaker | None] = field(default_factory=list)
    routes: list[dict[_StageSlot, None]] = field(default_factory=list)
    """Per stage slot: the listener slots its holder's packets go to."""
    ws: set[str] = field(default_factory=set)
    batch: deque[WsPacket] | None = None
    """Packets for the WebSocket listeners since the last `take_ws_batch`."""
    closed: bool = False

    def __post_init__(self) -> None:
        self.holders = [None] * self.loudest
        self.routes = [{} for _ in range(self.loudest)]

    def peers(self) -> Iterator[_Peer]:
        yield from self.publishers.values()
        yield from self.listeners.values()


class StageVoice:
    """Stage audio for one process. See the module docstring.

    `host_addresses`: ICE host candidates only on these literal IPs (process-wide, as
    `VoiceRouter`). `connect_timeout`: a connection not up this many seconds after
    its offer is dropped. `webrtc_listener_budget`: WebRTC listeners per process.
    `loudest`: speakers heard at once. `tasks`: the server's `Tasks`, which then
    owns the background work (closing failed connections).
    """

    def __init__(
        self,
        *,
        host_addresses: Sequence[str] | None = None,
        connect_timeout: float = 30.0,
        webrtc_listener_budget: int = 500,
        loudest: int = 3,
        tasks: Tasks | None = None,
    ) -> None:
        if loudest < 1:
            raise ValueError("loudest must be at least 1")
        check_aiortc_compatible()
        if host_addresses is not None:
            restrict_host_addresses(host_addresses)
        self.connect_timeout = connect_timeout
        self.webrtc_listener_budget = webrtc_listener_budget
        self.loudest = loudest
        self.stats = StageStats()
        self._stages: dict[str, _Stage] = {}
        self._pcs: set[RTCPeerConnection] = set()
        self._pending_listens = 0
        self._blocks: dict[str, set[str]] = {}
        """listener -> others they blocked (directed; `_blocked` reads both ways)."""
        self._blocked_by: dict[str, set[str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._owner = tasks
        self._closed = False

    # -- stages ------------------------------------------------------------------

    async def open_stage(self, stage: str) -> None:
        """Open a stage. Opening one that is open does nothing. Raises `closed`."""
        self._check_open()
        if stage not in self._stages:
            self._stages[stage] = _Stage(stage, self.loudest)

    async def close_stage(self, stage: str) -> None:
        """Close a stage and every peer connection of it (closed on return); its
        permissions and WebSocket listeners are forgotten. Unknown stages are ignored."""
        room = self._stages.pop(stage, None)
        if room is None:
            return
        room.closed = True
        peers = list(room.peers())
        room.publishers.clear()
        room.listeners.clear()
        room.ws.clear()
        room.batch = None
        self._recount()
        await asyncio.gather(*(self._dispose(p) for p in peers))

    @property
    def open_peer_connections(self) -> int:
        """Peer connections created and not yet fully closed (offers in progress too)."""
        return len(self._pcs)

    # -- permission --------------------------------------------------------------

    def allow(self, stage: str, participant: str, allowed: bool) -> None:
        """Give or take `participant`'s permission to be heard on `stage`.

        Takes effect for their next packet; taking it also frees their slot at
        once. Their connection stays open (allowing them again resumes the same
        stream). Raises `no_room`.
        """
        room = self._stage(stage)
        if allowed:
            room.allowed.add(participant)
        else:
            room.allowed.discard(participant)
        publisher = room.publishers.get(participant)
        if publisher is not None and publisher.speaker is not None:
            publisher.speaker.allowed = allowed
            if not allowed:
                self._release(room, publisher.speaker)

    # -- WebRTC ------------------------------------------------------------------

    async def publish(self, stage: str, participant: str, offer_sdp: str) -> str:
        """Connect a speaker; returns the answer SDP (all our candidates in it).

        The first m-line the client sends on is the microphone; every receive
        m-line (up to `loudest`) carries another current speaker. Publishing again
        replaces the previous publisher connection; a publisher connection with
        receive m-lines also replaces the participant's listener connection (it
        hears the stage itself). Raises `VoiceError`: no_room, not_speaker (not
        allowed now), bad_sdp, no_audio (nothing to send), no_opus, closed.
        """
        self._check_open()
        room = self._stage(stage)
        offer = check_offer(offer_sdp)
        if participant not in room.allowed:
            raise VoiceError(NOT_SPEAKER, f"{participant!r} may not speak on stage {stage!r}.")
        if not offer.sends:
            raise VoiceError(NO_AUDIO, "A publish offer must send audio (a microphone).")
        peer, answer = await self._connect(room, participant, offer, publishing=True)
        await self._check_still(room, peer)
        if participant not in room.allowed:  # taken while we negotiated
            await self._dispose(peer)
            raise VoiceError(NOT_SPEAKER, f"{participant!r} may not speak on stage {stage!r}.")
        replaced = [room.publishers.get(participant)]
        if peer.slots:
            replaced.append(room.listeners.get(participant))
        for old in replaced:
            if old is not None:
                self._unlink(old)
        room.publishers[participant] = peer
        self._route(room, peer)
        self._recount()
        self._watch(peer)
        await asyncio.gather(*(self._dispose(old) for old in replaced if old is not None))
        return answer

    async def listen(self, stage: str, participant: str, offer_sdp: str) -> str:
        """Connect a WebRTC listener; returns the answer SDP.

        Each receive m-line (up to `loudest`) carries one current speaker. Listening
        again replaces the previous listener connection. An offer that sends is
        refused unless the participant may speak (and even then nothing it sends is
        taken: speakers `publish`). Raises `VoiceError`: no_room, not_speaker,
        listener_budget (use the WebSocket), bad_sdp, no_audio, no_opus, closed.
        """
        self._check_open()
        room = self._stage(stage)
        offer = check_offer(offer_sdp)
        if offer.sends and participant not in room.allowed:
            raise VoiceError(
                NOT_SPEAKER, f"{participant!r} may not speak on stage {stage!r}: listen recvonly."
            )
        if not offer.receive_slots:
            raise VoiceError(NO_AUDIO, "A listen offer must receive audio (recvonly m-lines).")
        replacing = participant in room.listeners
        in_use = self.stats.webrtc_listeners + self._pending_listens
        if not replacing and in_use >= self.webrtc_listener_budget:
            raise VoiceError(
                LISTENER_BUDGET,
                f"This server has {self.webrtc_listener_budget} WebRTC listeners: "
                "listen over the WebSocket.",
            )
        self._pending_listens += 1
        try:
            peer, answer = await self._connect(room, participant, offer, publishing=False)
        finally:
            self._pending_listens -= 1
        await self._check_still(room, peer)
        old = room.listeners.get(participant)
        if old is not None:
            self._unlink(old)
        room.listeners[participant] = peer
        self._route(room, peer)
        self._recount()
        self._watch(peer)
        if old is not None:
            await self._dispose(old)
        return answer

    async def leave(self, stage: str, participant: str) -> None:
        """Close the participant's publisher and listener connections on `stage`
        (closed on return). Idempotent; unknown stages are ignored. WebSocket
        listening is separate (`detach_ws`)."""
        room = self._stages.get(stage)
        if room is None:
            return
        pair = (room.publishers.get(participant), room.listeners.get(participant))
        gone = [p for p in pair if p is not None]
        for peer in gone:
            self._unlink(peer)
        await asyncio.gather(*(self._dispose(p) for p in gone))

    # -- WebSocket ---------------------------------------------------------------

    def attach_ws(self, stage: str, participant: str) -> None:
        """`participant` listens over the WebSocket; batching starts. Raises `no_room`."""
        room = self._stage(stage)
        room.ws.add(participant)
        if room.batch is None:
            room.batch = deque(maxlen=int(WS_BACKLOG_SECONDS * PACKETS_PER_SECOND) * self.loudest)
        self._recount()

    def detach_ws(self, stage: str, participant: str) -> None:
        """Stop WebSocket listening (idempotent); with nobody left, batching stops."""
        room = self._stages.get(stage)
        if room is None:
            return
        room.ws.discard(participant)
        if not room.ws:
            room.batch = None
        self._recount()

    def ws_listeners(self, stage: str) -> frozenset[str]:
        """Who listens to `stage` over the WebSocket (empty for an unknown stage)."""
        room = self._stages.get(stage)
        return frozenset(room.ws) if room is not None else frozenset()

    def take_ws_batch(self, stage: str) -> list[WsPacket]:
        """The packets forwarded since the last call, in arrival order: only of
        allowed speakers holding a slot. Empty without WebSocket listeners."""
        room = self._stages.get(stage)
        if room is None or room.batch is None:
            return []
        packets = list(room.batch)
        room.batch.clear()
        return packets

    # -- blocking ----------------------------------------------------------------

    def block(self, listener: str, other: str, blocked: bool) -> None:
        """`listener` blocks (or unblocks) `other`: neither hears the other over
        WebRTC, on every stage; the WebSocket tick filters with `ws_blocked`."""
        if blocked:
            self._blocks.setdefault(listener, set()).add(other)
            self._blocked_by.setdefault(other, set()).add(listener)
        else:
            _discard(self._blocks, listener, other)
            _discard(self._blocked_by, other, listener)
        for room in self._stages.values():
            ids = room.publishers.keys() | room.listeners.keys()
            if listener in ids or other in ids:
                self._reroute(room)

    def ws_blocked(self, participant: str) -> frozenset[str]:
        """Speakers whose packets `participant`'s WebSocket batch must leave out
        (whom they blocked and who blocked them)."""
        return frozenset(
            self._blocks.get(participant, set()) | self._blocked_by.get(participant, set())
        )

    def speaking(self, stage: str) -> list[str]:
        """The slot holders talking now (within `HOLD_SECONDS`), in slot order."""
        room = self._stages.get(stage)
        if room is None:
            return []
        now = time.monotonic()
        return [
            h.id
            for h in room.holders
            if h is not None and h.allowed and now - h.last_voiced < HOLD_SECONDS
        ]

    async def close(self) -> None:
        """Close every stage and peer connection; later calls raise `closed`."""
        self._closed = True
        await asyncio.gather(*(self.close_stage(s) for s in list(self._stages)))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- connections -------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise VoiceError(CLOSED, "The stage voice is shut down.")

    def _stage(self, stage: str) -> _Stage:
        room = self._stages.get(stage)
        if room is None:
            raise VoiceError(NO_ROOM, f"No stage {stage!r}.")
        return room

    async def _check_still(self, room: _Stage, peer: _Peer) -> None:
        """After negotiating: refuse (and close `peer`) if the stage or we closed."""
        if room.closed or self._closed:
            await self._dispose(peer)
            if self._closed:
                raise VoiceError(CLOSED, "The stage voice is shut down.")
            raise VoiceError(NO_ROOM, f"Stage {room.id!r} was closed.")

    async def _connect(
        self, room: _Stage, participant: str, offer: Offer, *, publishing: bool
    ) -> tuple[_Peer, str]:
        """Create the peer connection and answer. Closes it on any failure."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._pcs.add(pc)
        peer = _Peer(participant, room, publishing, pc)
        try:
            answer = await negotiate(pc, offer, lambda: self._configure(peer, offer))
            for slot, transceiver in zip(peer.slots, peer.transceivers, strict=True):
                slot.outlet = outlet_for(transceiver, answer)
        except Exception as exc:
            await self._dispose(peer)
            if isinstance(exc, VoiceError):
                raise
            raise VoiceError(BAD_SDP, f"The offer was refused: {exc!r}") from None
        return peer, answer

    def _configure(self, peer: _Peer, offer: Offer) -> None:
        """One slot per receive m-line (up to `loudest`); a publisher's microphone
        on the first sending m-line; nothing taken from any other."""
        took_microphone = not peer.publishing
        for transceiver in peer.pc.getTransceivers():
            offered = offer.directions.get(transceiver.mid or "", "inactive")
            client_receives = offered in _RECEIVES and len(peer.slots) < self.loudest
            use_microphone = offered in _SENDS and not took_microphone
            if client_receives:
                slot = _StageSlot()
                transceiver.sender.replaceTrack(slot.idle_track)
                peer.slots.append(slot)
                peer.transceivers.append(transceiver)
                peer.carrying.append(None)
            if use_microphone:
                took_microphone = True
                level_id = header_extension_id(offer.sdp, transceiver.mid, AUDIO_LEVEL_URI)
                self._take_microphone(peer, transceiver.receiver, level_id)
            transceiver.direction = direction(send=client_receives, receive=use_microphone)

    def _watch(self, peer: _Peer) -> None:
        """Drop `peer` if its connection fails, closes, or never comes up."""
        pc = peer.pc

        def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self._spawn(self._remove(peer))
            elif pc.connectionState == "connected" and peer.timeout is not None:
                peer.timeout.cancel()
                peer.timeout = None

        pc.on("connectionstatechange", on_state)
        if pc.connectionState != "connected":
            peer.timeout = asyncio.get_running_loop().call_later(
                self.connect_timeout, lambda: self._spawn(self._remove(peer))
            )

    def _spawn(self, coro: Any) -> None:
        if self._owner is not None:
            self._owner.spawn(coro, name="stage-voice")
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _remove(self, peer: _Peer) -> None:
        self._unlink(peer)
        await self._dispose(peer)

    def _unlink(self, peer: _Peer) -> None:
        """Take `peer` out of its stage's tables and routes (if still there)."""
        room = peer.stage
        table = room.publishers if peer.publishing else room.listeners
        if table.get(peer.id) is not peer:
            return
        del table[peer.id]
        if peer.speaker is not None:
            self._release(room, peer.speaker)
        for route in room.routes:
            for slot in peer.slots:
                route.pop(slot, None)
        self._recount()

    async def _dispose(self, peer: _Peer) -> None:
        """Close a peer's connection; idempotent, never raises."""
        if peer.timeout is not None:
            peer.timeout.cancel()
            peer.timeout = None
        for slot in peer.slots:
            slot.stop()
        pc = peer.pc
        try:
            await pc.close()
        except Exception:  # closing must not fail the caller; log why
            log.warning("closing a stage peer connection failed", exc_info=True)
        finally:
            self._pcs.discard(pc)

    def _recount(self) -> None:
        stats = self.stats
        stats.webrtc_listeners = sum(len(r.listeners) for r in self._stages.values())
        stats.publishers = sum(len(r.publishers) for r in self._stages.values())
        stats.ws_listeners = sum(len(r.ws) for r in self._stages.values())

    # -- media path --------------------------------------------------------------

    def _take_microphone(self, peer: _Peer, receiver: Any, level_id: int | None) -> None:
        room = peer.stage
        speaker = peer.speaker = _Speaker(peer.id, peer.id in room.allowed)
        stats = self.stats
        clock = time.monotonic
        take_slot = self._take_slot

        def on_packet(packet: Any) -> None:
            stats.packets_received += 1
            if not speaker.allowed:
                stats.dropped_not_allowed += 1
                return
            now = clock()
            level: int = packet.audio_level
            payload: bytes = packet.payload
            if level >= 0:
                stats.packets_with_audio_level += 1
                loudness = 127.0 - level
                voiced = level <= VOICED_LEVEL
            else:
                loudness = float(len(payload))
                voiced = False
            if speaker.level < 0:
                speaker.level = loudness
            else:
                speaker.level += (loudness - speaker.level) * SMOOTHING
            if level < 0:
                voiced = speaker.level >= VOICED_BYTES
            if voiced:
                speaker.last_voiced = now
            index = speaker.slot
            if index is None and (not voiced or (index := take_slot(room, speaker, now)) is None):
                stats.dropped_not_loudest += 1
                return
            route = room.routes[index]
            timestamp: int = packet.timestamp
            for slot in route:
                slot.push_payload(speaker, timestamp, payload)
            stats.packets_forwarded += len(route)
            batch = room.batch
            if batch is not None:
                if len(batch) == batch.maxlen:
                    stats.ws_dropped += 1
                batch.append((speaker.id, packet.sequence_number, timestamp, payload))
                stats.ws_packets += 1

        tap_inbound_rtp(receiver, on_packet, audio_level_id=level_id)

    def _take_slot(self, room: _Stage, speaker: _Speaker, now: float) -> int | None:
        """Give `speaker` (talking, holding none) a free slot, or that of the holder
        silent longest (at least `HOLD_SECONDS`), unless a louder speaker is waiting."""
        free: int | None = None
        quiet_since = now - HOLD_SECONDS
        for i, holder in enumerate(room.holders):
            if holder is None:
                free = i
                break
            if holder.last_voiced <= quiet_since:
                quiet_since = holder.last_voiced
                free = i
        if free is None:
            return None
        recent = now - WAITING_SECONDS
        for publisher in room.publishers.values():
            other = publisher.speaker
            if (
                other is not None
                and other is not speaker
                and other.slot is None
                and other.allowed
                and other.last_voiced > recent
                and other.level > speaker.level
            ):
                return None  # the louder one takes it with their next packet
        previous = room.holders[free]
        if previous is not None:
            previous.slot = None
        room.holders[free] = speaker
        speaker.slot = free
        self._reroute(room)
        return free

    def _release(self, room: _Stage, speaker: _Speaker) -> None:
        if speaker.slot is not None:
            if room.holders[speaker.slot] is speaker:
                room.holders[speaker.slot] = None
            speaker.slot = None
            self._reroute(room)

    def _blocked(self, a: str, b: str) -> bool:
        return b in self._blocks.get(a, ()) or a in self._blocks.get(b, ())

    def _route(self, room: _Stage, peer: _Peer) -> None:
        """(Re)assign `peer`'s slots to the stage slots it may hear, keeping the
        slots it already carries (stream continuity), and add them to the routes."""
        if not peer.slots:
            return
        wanted = [
            i
            for i, holder in enumerate(room.holders)
            if holder is not None and holder.id != peer.id and not self._blocked(peer.id, holder.id)
        ]
        carrying: list[int | None] = [c if c in wanted else None for c in peer.carrying]
        for i in wanted:
            if i in carrying:
                continue
            if i < len(carrying) and carrying[i] is None:
                carrying[i] = i
            elif None in carrying:
                carrying[carrying.index(None)] = i
        peer.carrying = carrying
        for slot, index in zip(peer.slots, carrying, strict=True):
            if index is not None:
                room.routes[index][slot] = None

    def _reroute(self, room: _Stage) -> None:
        """Rebuild every route of the stage (after a slot, permission or block change)."""
        for route in room.routes:
            route.clear()
        for peer in room.peers():
            self._route(room, peer)


def _discard(table: dict[str, set[str]], key: str, value: str) -> None:
    values = table.get(key)
    if values is not None:
        values.discard(value)
        if not values:
            del table[key]
