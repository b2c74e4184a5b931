"""`ClientConnection`: one WebSocket client, from hello to goodbye.

The edge of the server. Every message passes, in order: the rate limiter,
the validating decoder (`protocol.codec`), the session table
(`protocol.session`: state and role), then its handler. Anything refused
is answered with an ``error`` carrying a code and a readable reason; abuse
(floods, a stream of bad messages, a wrong version or a forged token) ends
in a close with a specific code. Nothing a client sends can raise past this
class, so other clients never notice.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from protocol.catalogue import PROTOCOL_VERSION
from protocol.codec import Message, decode_client
from protocol.errors import CloseCode, ErrorCode, ProtocolError
from protocol.session import Session, SessionState
from server import auth
from server.link import ClientLink, broadcast
from server.moderation import announce
from server.privacy import redact
from server.ratelimit import TokenBucket
from server.service.desks import Person
from server.space import Avatar, SpaceFull
from server.voice import VoiceError

if TYPE_CHECKING:
    from server.app import ServicePoint

log = logging.getLogger(__name__)

Handler = Callable[[Message], Awaitable[None]]


class ClientConnection:
    def __init__(self, app: ServicePoint, ws: ServerConnection) -> None:
        self.app = app
        self.ws = ws
        cfg = app.config
        self.link = ClientLink(ws, app.metrics, cfg.send_buffer_limit, cfg.slow_consumer_s)
        self.session = Session()
        now = time.monotonic()
        self.bucket = TokenBucket(cfg.rate_per_s, cfg.rate_burst, now)
        self.error_times: deque[float] = deque()
        self.avatar: Avatar | None = None
        self.granted_name: str | None = None
        self.resume_token = secrets.token_urlsafe(24)
        self.keep_for_resume = True
        self.handlers: dict[str, Handler] = {
            "hello": self.on_hello,
            "join": self.on_join,
            "move": self.on_move,
            "chat": self.on_chat,
            "announce": self.on_announce,
            "kick": self.on_kick,
            "ping": self.on_ping,
            "duty": self.on_duty,
            "take_ticket": self.on_take_ticket,
            "leave_queue": self.on_leave_queue,
            "respond": self.on_respond,
            "call_next": self.on_call_next,
            "auto_call": self.on_auto_call,
            "transfer": self.on_transfer,
            "close_case": self.on_close_case,
            "invite": self.on_invite,
            "desk_say": self.on_desk_say,
            "rtc_offer": self.on_rtc_offer,
            "rtc_ice": self.on_rtc_ice,
            "mute": self.on_mute,
            "hangup": self.on_hangup,
            "bye": self.on_bye,
        }

    # -- lifecycle -------------------------------------------------------

    async def run(self) -> None:
        """Serve this client until it leaves or is closed."""
        self.app.metrics.connections += 1
        try:
            await self._receive_loop()
        except ConnectionClosed:
            pass
        finally:
            self.app.metrics.connections -= 1
            await self._cleanup()

    async def _receive_loop(self) -> None:
        ws = self.ws
        hello_deadline = time.monotonic() + self.app.config.hello_timeout_s
        while True:
            if self.session.state is SessionState.AWAIT_HELLO:
                remaining = hello_deadline - time.monotonic()
                try:
                    data = await asyncio.wait_for(ws.recv(), max(0.0, remaining))
                except TimeoutError:
                    await self.close(CloseCode.HELLO_TIMEOUT, "no hello in time")
                    return
            else:
                data = await ws.recv()
            await self.on_data(data)
            if self.session.state is SessionState.CLOSED or not self.link.open:
                return

    async def on_data(self, data: bytes | str) -> None:
        metrics = self.app.metrics
        metrics.messages_in += 1
        metrics.bytes_in += len(data)
        now = time.monotonic()
        if not self.bucket.take(now):
            if self.bucket.dropped_window > self.app.config.flood_drops:
                await self.close(CloseCode.FLOOD, "message flood")
            elif self.bucket.should_notify(now):
                self.error(ErrorCode.RATE_LIMITED, "Too many messages; some were dropped.")
            return
        ref: str | None = None
        try:
            msg = decode_client(data)
            ref = msg["t"]
            self.session.receive(msg)
            await self.handlers[msg["t"]](msg)
        except ProtocolError as exc:
            self.error(exc.code, exc.reason, exc.ref or ref)
            await self._count_error(now)
        except VoiceError as exc:
            self.error(exc.code, exc.message, ref)
            await self._count_error(now)
        except ConnectionClosed:
            raise
        except Exception:
            log.exception("handler failed for %s", ref)
            self.error(ErrorCode.INTERNAL, "The server could not handle that message.", ref)

    async def _count_error(self, now: float) -> None:
        window = self.app.config.error_window_s
        self.error_times.append(now)
        while self.error_times and now - self.error_times[0] > window:
            self.error_times.popleft()
        if len(self.error_times) > self.app.config.max_errors:
            await self.close(CloseCode.TOO_MANY_ERRORS, "too many invalid messages")

    def error(self, code: str, reason: str, ref: str | None = None) -> None:
        self.app.metrics.errors[code] += 1
        msg: dict[str, Any] = {"t": "error", "code": code, "msg": reason}
        if ref:
            msg["ref"] = ref
        self.link.send(msg)

    async def close(self, code: CloseCode, reason: str) -> None:
        self.app.metrics.closes[int(code)] += 1
        if code in (CloseCode.KICKED, CloseCode.BAD_TOKEN, CloseCode.BAD_VERSION):
            self.keep_for_resume = False
            await self.app.store.drop_resume(self.resume_token)
        self.session.server_event("closed")
        await self.ws.close(int(code), reason)

    async def _cleanup(self) -> None:
        if self.session.state is not SessionState.CLOSED:
            self.session.server_event("closed")
        self.app.forget(self)
        avatar = self.avatar
        if avatar is None:
            return
        self.avatar = None
        if avatar.role in ("staff", "admin"):
            grace = self.app.config.resume_s if self.keep_for_resume else 0.0
            self.app.desks.staff_left(self.person(avatar), grace)
        if not self.keep_for_resume:
            await self.app.desks.citizen_gone(self.person(avatar))
        record = self.detach(avatar)
        if self.keep_for_resume:
            try:
                await self.app.store.save_resume(
                    self.resume_token, record, self.app.config.resume_s
                )
            except Exception:
                log.exception("could not save resume record")

    def detach(self, avatar: Avatar) -> dict[str, Any]:
        """Take the avatar out of the space; return what resuming needs."""
        space = self.app.space
        x, z = space.positions[avatar.slot].tolist()
        record = {**avatar.identity(), "x": x, "z": z, "yaw": float(space.yaw[avatar.slot])}
        space.remove(avatar)
        avatar.link = None
        return record

    # -- handlers --------------------------------------------------------

    async def on_hello(self, msg: Message) -> None:
        if msg["v"] != PROTOCOL_VERSION:
            self.error(
                ErrorCode.BAD_VERSION,
                f"This server speaks protocol version {PROTOCOL_VERSION}, not {msg['v']}.",
                "hello",
            )
            await self.close(CloseCode.BAD_VERSION, "unsupported protocol version")
            return
        token = msg.get("token")
        if token is not None:
            try:
                grant = auth.verify(self.app.secret, token)
            except auth.TokenError as exc:
                self.error(ErrorCode.BAD_TOKEN, str(exc), "hello")
                await self.close(CloseCode.BAD_TOKEN, "invalid token")
                return
            self.session.role = grant.role
            self.granted_name = grant.name
        record = None
        if "resume" in msg:
            record = await self.app.claim_resume(msg["resume"])
        if record is not None:
            self.session.role = str(record["role"])
            self.session.server_event("resumed")
        self.link.send(
            {
                "t": "welcome",
                "v": PROTOCOL_VERSION,
                "session": secrets.token_hex(8),
                "resume": self.resume_token,
                "resume_s": self.app.config.resume_s,
                "role": self.session.role,
                **({"name": self.granted_name} if self.granted_name else {}),
                "resumed": record is not None,
                "tick_hz": self.app.config.tick_hz,
                "world": self.app.world_wire,
                "limits": self.app.limits_wire,
            }
        )
        self.app.remember(self)
        if record is not None:
            avatar = Avatar(
                id=int(record["id"]),
                name=str(record["name"]),
                role=str(record["role"]),
                color=int(record["color"]),
                shape=str(record["avatar"]),
            )
            await self._enter_world(avatar, record["x"], record["z"], record["yaw"])

    async def on_join(self, msg: Message) -> None:
        name = self.granted_name or redact(msg["name"]).strip() or "Guest"
        avatar = Avatar(
            id=await self.app.store.next_entity_id(),
            name=name[:32],
            role=self.session.role,
            color=msg.get("color", random.randrange(0x1000000)),
            shape=msg.get("avatar", "round"),
        )
        x, z, yaw = self.app.space.spawn_point()
        await self._enter_world(avatar, x, z, yaw)

    async def _enter_world(self, avatar: Avatar, x: float, z: float, yaw: float) -> None:
        avatar.link = self.link
        space = self.app.space
        try:
            space.add(avatar, x, z, yaw, time.monotonic())
        except SpaceFull:
            self.session.state = SessionState.AWAIT_JOIN
            raise ProtocolError(
                ErrorCode.SPACE_FULL, "The space is full; try again later."
            ) from None
        self.avatar = avatar
        self.app.by_avatar[avatar.id] = self
        px, pz = space.positions[avatar.slot].tolist()
        zone = space.zone_name(space.zone_of(avatar))
        self.link.send(
            {
                "t": "joined",
                "id": avatar.id,
                "name": avatar.name,
                "x": px,
                "z": pz,
                "yaw": yaw,
                "zone": zone,
            }
        )
        # Kept without expiry while connected, so a crash cannot lose the avatar
        # (and with it a queue ticket); the window starts when the client leaves.
        record = {**avatar.identity(), "x": px, "z": pz, "yaw": yaw}
        await self.app.store.save_resume(self.resume_token, record, None)
        self.link.send(await self.app.chat.history(zone))
        self.app.desks.resend_state(self.person(avatar))

    async def on_move(self, msg: Message) -> None:
        avatar = self.avatar
        assert avatar is not None
        seq = msg["seq"]
        avatar.last_seq = seq
        result = self.app.space.move(avatar, msg["x"], msg["z"], msg["yaw"], time.monotonic())
        if result.clamped:
            self.link.send(
                {
                    "t": "correct",
                    "seq": seq,
                    "x": result.x,
                    "z": result.z,
                    "yaw": math.remainder(msg["yaw"], math.tau),
                }
            )
        if result.teleport:
            raise ProtocolError(
                ErrorCode.MOVE_TOO_FAR,
                "That move is faster than walking; you were stopped.",
                "move",
            )

    async def on_chat(self, msg: Message) -> None:
        assert self.avatar is not None
        await self.app.chat.say(self.avatar, msg["scope"], msg["text"])

    async def on_announce(self, msg: Message) -> None:
        assert self.avatar is not None
        announce(self.app.space, self.avatar, msg["text"])

    async def on_kick(self, msg: Message) -> None:
        target = self.app.by_avatar.get(msg["id"])
        if target is None or target is self:
            raise ProtocolError(
                ErrorCode.UNKNOWN_ENTITY, "There is no such avatar to remove.", "kick"
            )
        log.info("avatar %s removed by %s", msg["id"], self.session.role)
        target.link.send({"t": "bye", "reason": msg.get("reason") or "removed by a moderator"})
        await target.close(CloseCode.KICKED, "removed by a moderator")

    # -- the service desk ---------------------------------------------------

    @staticmethod
    def person(avatar: Avatar) -> Person:
        return Person(avatar.id, avatar.name, avatar.role)

    @property
    def me(self) -> Person:
        assert self.avatar is not None
        return self.person(self.avatar)

    async def on_duty(self, msg: Message) -> None:
        await self.app.desks.duty(self.me, msg["status"], msg.get("desk"))

    async def on_take_ticket(self, msg: Message) -> None:
        ticket = await self.app.desks.take_ticket(self.me, msg["service"], msg["lang"])
        log.info("ticket %s taken for %s", ticket.id, ticket.service)

    async def on_leave_queue(self, msg: Message) -> None:
        await self.app.desks.leave_queue(self.me)

    async def on_respond(self, msg: Message) -> None:
        await self.app.desks.respond(self.me)

    async def on_call_next(self, msg: Message) -> None:
        await self.app.desks.call_next(self.me)

    async def on_auto_call(self, msg: Message) -> None:
        await self.app.desks.auto_call(self.me, msg["on"])

    async def on_transfer(self, msg: Message) -> None:
        await self.app.desks.transfer(self.me, msg["service"], msg.get("lang"), msg.get("notes"))

    async def on_close_case(self, msg: Message) -> None:
        await self.app.desks.close_case(self.me, msg["outcome"], msg.get("notes"))

    async def on_invite(self, msg: Message) -> None:
        guest = self.app.by_avatar.get(msg["id"])
        if guest is None or guest.avatar is None:
            raise ProtocolError(ErrorCode.UNKNOWN_ENTITY, "There is no such avatar to invite.")
        await self.app.desks.invite(self.me, self.person(guest.avatar))

    async def on_desk_say(self, msg: Message) -> None:
        me = self.me
        members = self.app.desks.desk_members(me)
        line = {
            "t": "desk_say",
            "id": me.id,
            "name": me.name,
            "role": me.role,
            "text": redact(msg["text"]),
            "ts": time.time(),
        }
        broadcast((self.app.link_of(m.id) for m in members), line)

    async def on_rtc_offer(self, msg: Message) -> None:
        answer = await self.app.desks.rtc_offer(self.me, msg["sdp"])
        self.link.send({"t": "rtc_answer", "sdp": answer})

    async def on_rtc_ice(self, msg: Message) -> None:
        candidate: dict[str, Any] = {"candidate": msg["candidate"]}
        if "mid" in msg:
            candidate["sdpMid"] = msg["mid"]
        if "mline" in msg:
            candidate["sdpMLineIndex"] = msg["mline"]
        await self.app.desks.rtc_ice(self.me, candidate)

    async def on_mute(self, msg: Message) -> None:
        self.app.desks.mute(self.me, msg["muted"])

    async def on_hangup(self, msg: Message) -> None:
        await self.app.desks.hangup(self.me)

    async def on_ping(self, msg: Message) -> None:
        self.link.send({"t": "pong", "n": msg["n"]})

    async def on_bye(self, msg: Message) -> None:
        self.keep_for_resume = False
        await self.app.store.drop_resume(self.resume_token)
        await self.ws.close(int(CloseCode.NORMAL), "bye")
