"""`ClientConnection`: one WebSocket client, from hello to goodbye.

The edge of the server. Every message passes, in order: the connection
policy (`protocol.policy`: rate limit and flood verdicts), the validating
decoder (`protocol.codec`), the session table (`protocol.session`: phase and
role), then its handler: the session's own (hello, join, move, ping, bye)
here, every other through the `Dispatcher` to the feature that declared it.
Anything refused is answered with an ``error`` carrying a code and a
readable reason; abuse (floods, a stream of bad messages, a wrong version or
a forged token) ends in a close with a specific code. Nothing a client sends
can raise past this class, so other clients never notice.

The edge imports no feature: features are reached through the dispatcher
and their lifecycle hooks only.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from protocol.catalogue import PROTOCOL_VERSION
from protocol.codec import Message, decode_client
from protocol.errors import CloseCode, ErrorCode, ProtocolError
from protocol.policy import Admission, ConnectionPolicy, forgets_resume
from protocol.session import Session, SessionState
from server.auth.service import AuthService, SessionRefused
from server.auth.sessions import AuthSession
from server.config import Config
from server.edge.dispatch import Dispatcher
from server.edge.hub import Hub
from server.edge.link import ClientLink
from server.identity import Keyring, TokenError
from server.metrics import Metrics
from server.plug import Caller, Outgoing, Person
from server.privacy import redact
from server.rights import DataRights, RightsUnavailable, export_parts
from server.space import Avatar, Space, SpaceFull
from server.store import Keyspace

log = logging.getLogger(__name__)

CORE_MESSAGES = (
    "hello",
    "join",
    "move",
    "ping",
    "bye",
    "session_list",
    "session_revoke",
    "my_data",
    "my_data_erase",
)
"""Client messages the edge handles itself: the session (and sign-in sessions, by `auth`)."""


@dataclass
class Edge:
    """What every connection of one process shares (built by the app)."""

    config: Config
    metrics: Metrics
    hub: Hub
    space: Space
    keyring: Keyring
    sessions: Keyspace
    """Resume records and the entity id sequence."""
    dispatch: Dispatcher
    world_wire: dict[str, Any]
    limits_wire: dict[str, Any]
    auth: AuthService | None = None
    """Sign-in sessions (the handshake's cookie), revocation, verified citizens."""
    rights: DataRights | None = None
    """A citizen's export and erasure across every feature."""


async def next_entity_id(sessions: Keyspace) -> int:
    """A new entity id, never handed out before (survives restarts)."""
    return await sessions.incr("entity_seq")


async def save_resume(
    sessions: Keyspace, token: str, record: dict[str, Any], ttl: float | None
) -> None:
    await sessions.set("resume:" + token, msgpack.packb(record), ttl)


async def take_resume(sessions: Keyspace, token: str) -> dict[str, Any] | None:
    raw = await sessions.take("resume:" + token)
    if raw is None:
        return None
    record = msgpack.unpackb(raw, raw=False)
    return record if isinstance(record, dict) else None


async def drop_resume(sessions: Keyspace, token: str) -> None:
    await sessions.delete("resume:" + token)


async def expire_orphans(
    sessions: Keyspace, ttl_s: float, alive: Callable[[int], bool] | None = None
) -> int:
    """Give resume records without expiry (left by a crashed process) ``ttl_s`` to live.
    ``alive(entity)``: in a cluster, whether the record's avatar is connected to some
    process (its record has no expiry because it is live there): such records are left
    alone, or that person could not resume after their next drop."""
    count = 0
    for key in await sessions.scan("resume:*"):
        try:
            if await sessions.ttl(key) is not None:
                continue
            if alive is not None:
                raw = await sessions.get(key)
                record = msgpack.unpackb(raw, raw=False) if raw is not None else None
                entity = record.get("id") if isinstance(record, dict) else None
                if isinstance(entity, int) and alive(entity):
                    continue
            await sessions.expire(key, ttl_s)
            count += 1
        except KeyError:
            continue
    return count


class ClientConnection:
    def __init__(self, edge: Edge, ws: ServerConnection) -> None:
        self.edge = edge
        self.ws = ws
        cfg = edge.config
        self.link = ClientLink(
            ws, edge.metrics, cfg.send_buffer_limit, cfg.slow_consumer_s, cfg.slow_consumer_close_s
        )
        self.session = Session()
        self.policy = ConnectionPolicy(
            cfg.rate_per_s,
            cfg.rate_burst,
            cfg.flood_drops,
            cfg.max_errors,
            cfg.error_window_s,
            time.monotonic(),
        )
        self.avatar: Avatar | None = None
        self.granted_name: str | None = None
        self.subject = ""
        """Durable identity: a role token's subject, or the citizen key's pseudonym."""
        self.erased = False
        """The person erased their data: once features have seen them leave, erase again
        whatever a ``left`` hook wrote (a ticket given up when its holder goes)."""
        self.token_subject = False
        self.auth_session = ""
        """The public id of the sign-in session this connection was authenticated with."""
        self.verified = False
        """A citizen identity that proved who it is (eID); staff see only this flag."""
        self.resume_token = secrets.token_urlsafe(24)
        self.keep_for_resume = True
        self.replaced = False
        """Closed because the same subject connected again (the person goes on there)."""
        self.cleaning = False
        self.cleaned = asyncio.Event()
        """Set once the connection has let go of its avatar and saved its resume record."""
        self._person: Person | None = None

    # -- Sender ------------------------------------------------------------

    @property
    def person(self) -> Person:
        assert self._person is not None, "no avatar yet"
        return self._person

    def person_or_none(self) -> Person | None:
        return self._person

    @property
    def caller(self) -> Caller:
        name = self._person.name if self._person else (self.granted_name or "")
        return Caller(self.subject, name, self.session.role)

    @property
    def open(self) -> bool:
        return self.session.state is not SessionState.CLOSED

    def reply(self, msg: Outgoing) -> None:
        if isinstance(msg, bytes):
            self.link.write(msg)
        else:
            self.link.send(msg)

    # -- lifecycle -------------------------------------------------------

    async def run(self) -> None:
        """Serve this client until it leaves or is closed."""
        self.edge.metrics.connection_opened()
        try:
            await self._receive_loop()
        except ConnectionClosed:
            pass
        finally:
            self.edge.metrics.connection_closed()
            await self._cleanup()

    async def _receive_loop(self) -> None:
        ws = self.ws
        hello_deadline = time.monotonic() + self.edge.config.hello_timeout_s
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
        metrics = self.edge.metrics
        metrics.messages_in += 1
        metrics.bytes_in += len(data)
        now = time.monotonic()
        admission = self.policy.admit(now)
        if admission is not Admission.PASS:
            if admission is Admission.FLOOD:
                await self.close(CloseCode.FLOOD, "message flood")
            elif admission is Admission.NOTIFY:
                self.error(ErrorCode.RATE_LIMITED, "Too many messages; some were dropped.")
            return
        ref: str | None = None
        try:
            msg = decode_client(data)
            ref = msg["t"]
            self.session.receive(msg)
            await self._dispatch(ref, msg)
        except ProtocolError as exc:
            self.error(exc.code, exc.reason, exc.ref or ref)
            verdict = self.policy.refused(now)
            if verdict is not None:
                await self.close(verdict, "too many invalid messages")
        except ConnectionClosed:
            raise
        except Exception:
            log.exception("handler failed for %s", ref)
            self.error(ErrorCode.INTERNAL, "The server could not handle that message.", ref)

    async def _dispatch(self, t: str, msg: Message) -> None:
        if t == "hello":
            await self.on_hello(msg)
        elif t == "join":
            await self.on_join(msg)
        elif t == "move":
            self.on_move(msg)
        elif t == "ping":
            self.link.send({"t": "pong", "n": msg["n"]})
        elif t == "bye":
            await self.on_bye()
        elif t in ("session_list", "session_revoke"):
            auth = self.edge.auth
            if auth is None:
                raise ProtocolError(ErrorCode.FORBIDDEN, "This server has no sign-in sessions.", t)
            if t == "session_list":
                await auth.on_session_list(self, msg)
            else:
                await auth.on_session_revoke(self, msg)
        elif t in ("my_data", "my_data_erase"):
            await self.on_my_data(t, msg)
        else:
            handler = self.edge.dispatch.handler(t)
            assert handler is not None, t  # the dispatcher checked the table at start-up
            await handler(self, msg)

    async def on_my_data(self, t: str, msg: Message) -> None:
        rights = self.edge.rights
        if rights is None:
            raise ProtocolError(ErrorCode.FORBIDDEN, "This server keeps no personal data.", t)
        try:
            await self._my_data(rights, t, msg)
        except RightsUnavailable as exc:
            log.warning("data rights: the feature home did not answer (%s)", exc)
            raise ProtocolError(
                ErrorCode.NOT_READY,
                "Your data could not be gathered right now. Nothing was changed; please"
                " try again in a moment.",
                t,
            ) from None

    async def _my_data(self, rights: DataRights, t: str, msg: Message) -> None:
        if t == "my_data":
            parts = export_parts(await rights.export(self.subject), time.time())
            for n, part in enumerate(parts, 1):
                self.link.send({"t": "my_data", "data": part, "part": n, "parts": len(parts)})
            return
        if not msg["confirm"]:
            raise ProtocolError(ErrorCode.NOT_CONFIRMED, "Send confirm = true to erase.", t)
        done = await rights.erase(self.subject)
        self.erased = True
        self.link.send(
            {"t": "my_data_erased", "removed": done.removed, "anonymised": done.anonymised}
        )
        await self.close(CloseCode.ERASED, "data erased", bye="erased")

    def error(self, code: str, reason: str, ref: str | None = None) -> None:
        self.edge.metrics.error(code)
        msg: dict[str, Any] = {"t": "error", "code": code, "msg": reason}
        if ref:
            msg["ref"] = ref
        self.link.send(msg)

    async def close(self, code: CloseCode, reason: str, bye: str | None = None) -> None:
        """Close with ``code``; ``bye``: tell the client why first.

        A close that forgets the resume record deletes it before the client hears
        ``bye``, so a client that reconnects at once cannot take it back.
        """
        self.edge.metrics.close(int(code))
        if forgets_resume(code):
            self._spend_resume()
            await drop_resume(self.edge.sessions, self.resume_token)
        if bye is not None:
            self.link.send({"t": "bye", "reason": bye})
        if self.session.state is not SessionState.CLOSED:
            self.session.server_event("closed")
        await self.ws.close(int(code), reason)

    async def revoke(self, reason: str) -> None:
        """End this connection because its sign-in ended or was revoked (close 4010)."""
        if self.session.state is SessionState.CLOSED:
            return
        await self.close(CloseCode.REVOKED, "session revoked", bye=reason)

    def _spend_resume(self) -> None:
        """No resume after this connection (bye, kicked, replaced, refused): at once, so a
        resume racing the close handshake cannot take the avatar back."""
        self.keep_for_resume = False
        self.edge.hub.forget_resume(self)

    async def _cleanup(self) -> None:
        self.cleaning = True
        try:
            await self._let_go()
        finally:
            # Only now may a resume take the record: it is saved (or spent).
            self.edge.hub.forget_resume(self)
            self.cleaned.set()

    async def _let_go(self) -> None:
        if self.session.state is not SessionState.CLOSED:
            self.session.server_event("closed")
        edge = self.edge
        edge.hub.forget_presence(self)
        avatar = self.avatar
        if avatar is None:
            return
        self.avatar = None
        person = self.person
        # A replaced connection's person goes on elsewhere: not gone for good.
        for_good = not self.keep_for_resume and not self.replaced
        await edge.dispatch.left(person, for_good=for_good)
        if self.erased and edge.rights is not None:
            try:  # once more, for what was written while the connection closed
                await edge.rights.erase(self.subject)
            except RightsUnavailable as exc:
                log.warning("data rights: the second erasure pass did not reach home (%s)", exc)
        record = self.detach(avatar)
        if self.keep_for_resume:
            try:
                await save_resume(edge.sessions, self.resume_token, record, edge.config.resume_s)
            except Exception:
                log.exception("could not save resume record")

    def detach(self, avatar: Avatar) -> dict[str, Any]:
        """Take the avatar out of the space; return what resuming needs."""
        space = self.edge.space
        x, z = space.positions[avatar.slot].tolist()
        record = {
            **avatar.identity(),
            "subject": self.subject,
            "x": x,
            "z": z,
            "yaw": float(space.yaw[avatar.slot]),
        }
        space.remove(avatar)
        avatar.link = None
        return record

    # -- the session's own messages ------------------------------------------

    async def on_hello(self, msg: Message) -> None:
        edge = self.edge
        if msg["v"] != PROTOCOL_VERSION:
            self.error(
                ErrorCode.BAD_VERSION,
                f"This server speaks protocol version {PROTOCOL_VERSION}, not {msg['v']}.",
                "hello",
            )
            await self.close(CloseCode.BAD_VERSION, "unsupported protocol version")
            return
        token = msg.get("token")
        verified = False
        signed_in: AuthSession | None = None
        if token is None and edge.auth is not None:
            try:
                signed_in = await self._signed_in(edge.auth)
            except SessionRefused as exc:
                self.error(ErrorCode.SIGNED_OUT, str(exc), "hello")
                await self.close(CloseCode.REVOKED, "session ended")
                return
        if token is not None:
            try:
                grant = edge.keyring.verify(token)
            except TokenError as exc:
                self.error(ErrorCode.BAD_TOKEN, str(exc), "hello")
                await self.close(CloseCode.BAD_TOKEN, "invalid token")
                return
            if edge.auth is not None and await edge.auth.token_refused(grant):
                self.error(ErrorCode.BAD_TOKEN, "The token was revoked.", "hello")
                await self.close(CloseCode.REVOKED, "token revoked")
                return
            self.session.role = grant.role
            self.granted_name = grant.name
            self.subject = "id:" + grant.subject
            self.token_subject = verified = True
        elif signed_in is not None:
            self.session.role = signed_in.role
            self.granted_name = signed_in.name
            self.subject = "id:" + signed_in.subject
            self.auth_session = signed_in.sid
            self.token_subject = verified = True
        elif msg.get("citizen") is not None:
            try:
                self.subject = "citizen:" + edge.keyring.verify_citizen(msg["citizen"])
                verified = True
            except TokenError:
                self.error(
                    ErrorCode.BAD_CITIZEN_KEY,
                    "Your saved identity was not accepted; you have a new one.",
                    "hello",
                )
        record = None
        if "resume" in msg:
            record = await self.claim_resume(msg["resume"], self.subject if verified else None)
            if record is not None:
                previous = str(record.get("subject", ""))
                privileged = str(record.get("role", "citizen")) != "citizen"
                if privileged and (not self.token_subject or previous != self.subject):
                    # A staff, host or admin avatar comes back only with a valid token
                    # of the same subject: a role never outlives its token.
                    record = None
                elif verified and previous and previous != self.subject:
                    record = None  # a resume token only brings back the same identity's avatar
                elif not verified and previous.startswith("citizen:"):
                    self.subject = previous  # the resume token itself proves continuity
        if record is not None:
            if not self.token_subject:
                self.session.role = str(record["role"])
            record["role"] = self.session.role
            self.session.server_event("resumed")
        citizen_key: str | None = None
        if not self.token_subject:
            pseudonym = self.subject.removeprefix("citizen:") if self.subject else None
            citizen_key, pseudonym = edge.keyring.mint_citizen(pseudonym)
            self.subject = "citizen:" + pseudonym
            if edge.auth is not None:
                self.verified = await edge.auth.is_verified(self.subject)
        elif record is not None:
            await self.claim_subject()
        welcome: dict[str, Any] = {
            "t": "welcome",
            "v": PROTOCOL_VERSION,
            "session": secrets.token_hex(8),
            "resume": self.resume_token,
            "resume_s": edge.config.resume_s,
            "role": self.session.role,
            "resumed": record is not None,
            "tick_hz": edge.config.tick_hz,
            "world": edge.world_wire,
            "limits": edge.limits_wire,
        }
        if self.granted_name:
            welcome["name"] = self.granted_name
        if citizen_key is not None:
            welcome["citizen"] = citizen_key
        if self.verified:
            welcome["verified"] = True
        self.link.send(welcome)
        edge.hub.remember(self)
        if record is not None:
            avatar = Avatar(
                id=int(record["id"]),
                name=str(record["name"]),
                role=str(record["role"]),
                color=int(record["color"]),
                shape=str(record["avatar"]),
            )
            await self._enter_world(avatar, record["x"], record["z"], record["yaw"], True)

    async def _signed_in(self, auth: AuthService) -> AuthSession | None:
        """The sign-in session of the handshake's cookie, unless there is none or it is a
        citizen's (who stays anonymous as usual); `SessionRefused` when it has ended."""
        request = self.ws.request
        if request is None:
            return None
        session = await auth.session_of(request.headers)
        return None if session is None or session.role == "citizen" else session

    async def claim_resume(self, token: str, subject: str | None) -> dict[str, Any] | None:
        """The avatar behind a resume token, taken from a live connection or the store.

        A live connection holding it (a half-open socket the client gave up
        on) is closed with 4009 (replaced) and its avatar handed over; one that
        is just letting go is waited for, so its record is saved first. With a
        verified ``subject`` that is not the holder's, the holder is left alone.
        """
        hub = self.edge.hub
        old = hub.live_resume.get(token)
        if old is not None and old is not self:
            if subject is not None and old.subject and old.subject != subject:
                return None
            if old.cleaning:
                try:
                    await asyncio.wait_for(old.cleaned.wait(), self.edge.config.shutdown_timeout_s)
                except TimeoutError:
                    log.warning("a resume waited too long for the previous connection")
                    return None
                return await take_resume(self.edge.sessions, token)
        if old is not None and old is not self and old.avatar is not None and old.keep_for_resume:
            hub.live_resume.pop(token, None)
            avatar, old.avatar = old.avatar, None
            hub.by_avatar.pop(avatar.id, None)
            if old.subject and hub.by_subject.get(old.subject) is old:
                del hub.by_subject[old.subject]
            old.keep_for_resume = False
            record = old.detach(avatar)
            await drop_resume(self.edge.sessions, token)
            hub.tasks.spawn(old.close(CloseCode.REPLACED, "resumed elsewhere"))
            return record
        taken = await take_resume(self.edge.sessions, token)
        if taken is not None and hub.remote is not None:
            await hub.remote.release(int(taken["id"]))  # held by another process: let go
        return taken

    def resumed_elsewhere(self) -> None:
        """The avatar was resumed on another process: close (4009) and keep no record."""
        self.keep_for_resume = False
        self.edge.hub.forget_resume(self)
        self.replaced = True
        self.edge.hub.tasks.spawn(
            self.close(CloseCode.REPLACED, "resumed elsewhere", bye="resumed on another connection")
        )

    async def claim_subject(self) -> None:
        """Be the one connection in the world of this token subject: an older one is
        replaced (close 4009), and let go of its avatar before this one enters.

        Only a connection that enters the world claims: a session that stays before
        ``join`` (the Q&A page) may run beside the same person's hall session."""
        if not self.token_subject:
            return
        old = self.edge.hub.claim_subject(self, self.subject)
        if old is not None and old.avatar is not None:
            try:
                await asyncio.wait_for(old.cleaned.wait(), self.edge.config.shutdown_timeout_s)
            except TimeoutError:
                log.warning("a replacing connection waited too long for the previous one")

    async def on_join(self, msg: Message) -> None:
        await self.claim_subject()
        name = self.granted_name or redact(msg["name"]).strip() or "Guest"
        avatar = Avatar(
            id=await next_entity_id(self.edge.sessions),
            name=name[:32],
            role=self.session.role,
            color=msg.get("color", random.randrange(0x1000000)),
            shape=msg.get("avatar", "round"),
        )
        x, z, yaw = self.edge.space.spawn_point()
        await self._enter_world(avatar, x, z, yaw, False)

    async def _enter_world(
        self, avatar: Avatar, x: float, z: float, yaw: float, resumed: bool
    ) -> None:
        edge = self.edge
        avatar.link = self.link
        space = edge.space
        try:
            space.add(avatar, x, z, yaw, time.monotonic())
        except SpaceFull:
            self.session.state = SessionState.AWAIT_JOIN
            raise ProtocolError(
                ErrorCode.SPACE_FULL, "The space is full; try again later."
            ) from None
        self.avatar = avatar
        self._person = Person(avatar.id, self.subject, avatar.name, avatar.role, self.verified)
        edge.hub.entered(self, avatar.id)
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
        record = {**avatar.identity(), "subject": self.subject, "x": px, "z": pz, "yaw": yaw}
        await save_resume(edge.sessions, self.resume_token, record, None)
        await edge.dispatch.entered(self._person, resumed)

    def on_move(self, msg: Message) -> None:
        avatar = self.avatar
        assert avatar is not None
        seq = msg["seq"]
        avatar.last_seq = seq
        result = self.edge.space.move(avatar, msg["x"], msg["z"], msg["yaw"], time.monotonic())
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

    async def on_bye(self) -> None:
        self._spend_resume()
        await drop_resume(self.edge.sessions, self.resume_token)
        await self.ws.close(int(CloseCode.NORMAL), "bye")
