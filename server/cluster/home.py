"""`FeatureHome`: in a cluster, the one process that runs the features which need one
writer for everyone (`Feature.home`: the desks, whose queue is one queue), and the way
the other processes reach it.

- **The lease.** Redis key `HOME_KEY` holds the home's bus origin with a TTL of the
  cluster lease; the home renews it three times a lease. A process starting when
  nobody holds it and no other process runs takes it (``SET NX``); beside running
  processes it waits a whole lease, as they do. When the home dies its key runs out and the
  first process to see it gone for a whole lease takes over: it starts the home
  features, which rebuild from the shared log (the desks' settle time then keeps them
  from undoing what people connected elsewhere still hold). The home itself takes its
  key back at once after a Redis restart emptied it. A home that finds another
  process holding its key (it was cut off for longer than a lease) cannot know what
  the new home has done since: it stops (`on_loss`), and its supervisor starts it
  afresh.
- **Forwarding.** On the other processes the dispatcher hands a home feature's
  client messages and lifecycle hooks (entered, left, zone) to `forward` and
  `forward_hook`: one `Forward` on the bus to the home, in order, with the sender's
  identity. The home validates the message again (`decode_client`), runs the
  feature's handler with a `RemoteSender` whose replies are relayed back, and turns a
  refused message into the same ``error`` the client would have had from a feature
  on its own process. Whatever the feature sends anyone later goes the same way
  (`NotifyPort` relays to whichever process holds the person), and a feature that
  places someone (`Place`) moves their avatar on the process that owns it.
- **HTTP and data rights.** A home feature's HTTP route asked on another process
  (`http`: an event's schedule or slide) and a citizen's export or erasure (`rights`)
  are answered at the home over the bus (`HttpCall`, `RightsCall`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from redis.asyncio import Redis

from protocol.codec import Message, decode_client, encode
from protocol.errors import ErrorCode, ProtocolError
from server.cluster.codec import (
    Forward,
    HomeMessage,
    HttpAnswer,
    HttpCall,
    Relay,
    RightsAnswer,
    RightsCall,
)
from server.cluster.replication import BEATS, PREFIX, Replication, _person, stop_task
from server.edge.dispatch import Dispatcher
from server.plug import (
    Caller,
    Erased,
    Feature,
    HttpError,
    HttpReply,
    HttpRequest,
    Outgoing,
    Person,
)

log = logging.getLogger(__name__)

HOME_KEY = PREFIX + "home"
HOME_LEASE_MIN_S = 5.0


def home_lease_s(cluster_lease_s: float) -> float:
    """The home's lease: three of the cluster's (avatar) leases, at least 5 s. Longer than
    an avatar's, because a takeover is costly (the home features rebuild, and a home that
    was only slow, not dead, must stop): a process starting up (its first compile of the
    interest kernels) or a starved machine must not lose it."""
    return max(HOME_LEASE_MIN_S, 3 * cluster_lease_s)


NOT_READY_REASON = "The process that runs this for everyone is getting ready. Try again."
RIGHTS_TIMEOUT_S = 30.0
"""How long a data-rights call waits for the home (an erasure rewrites logs)."""
HTTP_TIMEOUT_S = 15.0
"""How long a home feature's HTTP route asked elsewhere waits for the home."""


class HomeUnavailable(Exception):
    """No feature home answered (none known, it failed, or it did not answer in time)."""


_RENEW = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not held and ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""


def identity_of(person: Person) -> dict[str, Any]:
    """What a `Forward` carries of its sender (the subject stays between the servers)."""
    return {
        "id": person.id,
        "name": person.name,
        "role": person.role,
        "subject": person.subject,
        "verified": person.verified,
    }


class RemoteSender:
    """`server.plug.Sender` at home for a client connected to another process."""

    def __init__(self, person: Person, process: str, replication: Replication) -> None:
        self._person = person
        self._process = process
        self._replication = replication

    @property
    def person(self) -> Person:
        return self._person

    @property
    def caller(self) -> Caller:
        return Caller(self._person.subject, self._person.name, self._person.role)

    @property
    def open(self) -> bool:
        return self._replication.owner_of(self._person.id) is not None

    def reply(self, msg: Outgoing) -> None:
        payload = msg if isinstance(msg, bytes) else encode(msg)
        relay = Relay(self._replication.origin, (self._person.id,), payload)
        self._replication.post(self._process, relay)


class FeatureHome:
    def __init__(
        self,
        redis: Redis,
        origin: str,
        lease_s: float,
        *,
        on_gain: Callable[[], Coroutine[Any, Any, None]],
        on_loss: Callable[[], None],
        on_moved: Callable[[], None] | None = None,
        where: Callable[[int], tuple[tuple[float, float] | None, str]] | None = None,
    ) -> None:
        self.redis = redis
        self.origin = origin
        self.lease_s = lease_s
        self._on_gain = on_gain
        self._on_loss = on_loss
        self._on_moved = on_moved
        self._where = where
        self._held: list[Forward] = []
        """Hooks forwarded here while the home features were still starting (a takeover):
        applied, in order, once they are ready."""
        self.holder: str | None = None
        """The home's bus origin, as last read (None: nobody holds the lease)."""
        self._missing_since: float | None = None
        self._renewing: asyncio.Task[None] | None = None
        self._gaining: asyncio.Task[None] | None = None
        self.replication: Replication | None = None
        self.dispatcher: Dispatcher | None = None
        self._turns: dict[int, asyncio.Task[Any]] = {}
        self.ready = False
        """At home: the home features are started (until then their messages get
        ``not_ready``); the app sets it after its start, a takeover after `on_gain`."""
        self._gained = False
        self._calls: dict[int, asyncio.Future[Any]] = {}
        self._next_call = 1
        self._stopping = False

    @property
    def is_home(self) -> bool:
        return self.holder == self.origin

    # -- the lease -------------------------------------------------------------

    async def claim(self) -> bool:
        """At start: take the lease if nobody holds it and no other process is running;
        either way learn who does (the app starts the home features itself when this
        process is the home).

        With other processes running (subscribed to the beats; this one's replication
        starts later), a missing key is treated as any non-holder treats it: the home
        may only have been starved past its lease (a loaded machine, a slow start
        beside it) and takes its key back at once, so the newcomer waits a whole lease
        first. Taking it at start would make the slow home, not dead, stop."""
        others = await self._running_elsewhere()
        await self._check(may_take=not others)
        self._gained = self.is_home
        return self.is_home

    async def _running_elsewhere(self) -> int:
        """How many other processes of the cluster listen to the beats now."""
        counts = await self.redis.pubsub_numsub(BEATS)
        return sum(int(n) for _channel, n in counts)

    def start(self) -> None:
        self._renewing = asyncio.create_task(self._renew_forever(), name="cluster-home")

    async def stop(self) -> None:
        self._stopping = True
        for task in (self._renewing, self._gaining):
            if task is not None:
                await stop_task(task)  # the renew loop also checks `_stopping`
        if self.is_home:  # let the next home take over at once
            try:
                async with asyncio.timeout(2.0):
                    held = await self.redis.get(HOME_KEY)
                    if _text(held) == self.origin:
                        await self.redis.delete(HOME_KEY)
            except Exception as exc:
                log.debug("cluster: could not hand back the home lease: %s", exc)

    async def _renew_forever(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self._check(may_take=False)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: the next round tries again
                log.debug("cluster: home lease check failed: %s", exc)

    async def _check(self, may_take: bool) -> None:
        was_home = self.is_home
        now = time.monotonic()
        held = await self.redis.get(HOME_KEY)
        if held is None:
            if self._missing_since is None:
                self._missing_since = now
            # The home takes its key back at once; another process only once the key
            # has been gone for a whole lease (the home is dead, not blinking).
            may_take = may_take or was_home or now - self._missing_since >= self.lease_s
        else:
            self._missing_since = None
        ms = str(max(1, int(self.lease_s * 1000)))
        took = await self.redis.eval(  # type: ignore[misc]
            _RENEW, 1, HOME_KEY, self.origin, ms, "1" if may_take else "0"
        )
        before = self.holder
        if took:
            self.holder = self.origin
            self._missing_since = None
        else:
            current = await self.redis.get(HOME_KEY)
            self.holder = _text(current)
        if (
            self._renewing is not None
            and self.holder not in (None, before, self.origin)
            and self._on_moved is not None
        ):
            log.info("cluster: the feature home is now %s", self.holder)
            self._on_moved()  # tell the new home who is here
        if self.is_home and not self._gained and self._renewing is not None:
            self._gained = True
            log.info("cluster: this process takes over the feature home")
            self._gaining = asyncio.create_task(self._gain(), name="cluster-home-gain")
        elif was_home and not self.is_home:
            log.error(
                "cluster: another process took over the feature home while this one was"
                " cut off; stopping (it cannot know what the new home has done)"
            )
            self._on_loss()

    async def _gain(self) -> None:
        await self._on_gain()
        self.ready = True
        held, self._held = self._held, []
        for msg in held:
            self.receive(msg)

    # -- forwarding (on the other processes) -------------------------------------

    async def forward(self, feature: str, sender: Any, msg: Message) -> None:
        replication = self.replication
        if self.holder is None or replication is None:
            raise ProtocolError(ErrorCode.NOT_READY, NOT_READY_REASON, msg["t"])
        person: Person = sender.person
        at, zone = self._where(person.id) if self._where is not None else (None, "")
        forward = Forward(
            replication.origin,
            feature,
            "message",
            identity_of(person),
            encode(msg),
            at=at,
            zone_id=zone,
        )
        replication.post(self.holder, forward)

    def forward_hook(self, feature: str, hook: str, person: Person, arg: str | bool) -> None:
        replication = self.replication
        if self.holder is None or replication is None:
            log.debug("cluster: no feature home known; a %s hook was not forwarded", hook)
            return
        body = arg.encode() if isinstance(arg, str) else b""
        flag = arg if isinstance(arg, bool) else False
        at, zone = self._where(person.id) if self._where is not None else (None, "")
        ident = identity_of(person)
        forward = Forward(replication.origin, feature, hook, ident, body, flag, at, zone)
        replication.post(self.holder, forward)

    async def rights(self, feature: str, op: str, subject: str) -> dict[str, Any]:
        """Run a home feature's data export (``op`` ``export``) or erasure (``erase``:
        ``{"removed", "anonymised"}``) at the home, for a citizen asking here."""
        replication = self.replication
        if self.holder is None or replication is None:
            raise HomeUnavailable("no feature home is known")
        call_id = self._next_call
        self._next_call += 1
        answer: asyncio.Future[RightsAnswer] = asyncio.get_running_loop().create_future()
        self._calls[call_id] = answer
        try:
            replication.post(
                self.holder, RightsCall(replication.origin, call_id, feature, op, subject)
            )
            done = await asyncio.wait_for(answer, RIGHTS_TIMEOUT_S)
        except TimeoutError:
            raise HomeUnavailable("the feature home did not answer in time") from None
        finally:
            self._calls.pop(call_id, None)
        if done.error:
            raise HomeUnavailable(f"the feature home could not do it: {done.error}")
        return done.result

    async def http(self, feature: str, req: HttpRequest) -> HttpReply:
        """Answer a home feature's HTTP route at the home, for a caller here (503
        ``not_ready`` when no home answers)."""
        replication = self.replication
        if self.holder is None or replication is None:
            raise HttpError(503, ErrorCode.NOT_READY, NOT_READY_REASON)
        call_id = self._next_call
        self._next_call += 1
        answer: asyncio.Future[HttpAnswer] = asyncio.get_running_loop().create_future()
        self._calls[call_id] = answer
        caller = (req.caller.subject, req.caller.name, req.caller.role)
        call = HttpCall(replication.origin, call_id, feature, req.route, dict(req.query), caller)
        try:
            replication.post(self.holder, call)
            done = await asyncio.wait_for(answer, HTTP_TIMEOUT_S)
        except TimeoutError:
            raise HttpError(503, ErrorCode.NOT_READY, NOT_READY_REASON) from None
        finally:
            self._calls.pop(call_id, None)
        if done.error:
            raise HttpError(done.status or 503, done.error, done.body.decode(errors="replace"))
        return HttpReply(done.body, done.content_type, done.status, done.filename or None)

    async def _answer_http(self, call: HttpCall) -> None:
        assert self.replication is not None and self.dispatcher is not None
        feature = next((f for f in self.dispatcher.features if f.name == call.feature), None)
        route = feature.http_routes().get(call.route) if feature is not None else None
        origin = self.replication.origin
        if route is None or not self.ready:
            why = NOT_READY_REASON if route is not None else "There is no such API route."
            status, code = (503, ErrorCode.NOT_READY) if route is not None else (404, "not_found")
            answer = HttpAnswer(origin, call.id, status, why.encode(), error=code)
        else:
            req = HttpRequest(call.route, call.query, Caller(*call.caller))
            try:
                reply = await route.handler(req)
                answer = HttpAnswer(
                    origin,
                    call.id,
                    reply.status,
                    reply.body,
                    reply.content_type,
                    reply.filename or "",
                )
            except HttpError as exc:
                answer = HttpAnswer(
                    origin, call.id, exc.status, exc.reason.encode(), error=exc.code
                )
            except Exception:
                log.exception(
                    "%s: HTTP route %s for another process failed", call.feature, call.route
                )
                reason = b"The server could not answer; the error is logged."
                answer = HttpAnswer(origin, call.id, 500, reason, error="internal")
        self.replication.post(call.origin, answer)

    async def _answer_rights(self, call: RightsCall) -> None:
        assert self.replication is not None and self.dispatcher is not None
        feature = next((f for f in self.dispatcher.features if f.name == call.feature), None)
        result: dict[str, Any] = {}
        error = ""
        if feature is None or not self.ready:
            error = "not ready" if feature is not None else "no such feature"
        else:
            try:
                if call.op == "export":
                    result = dict(await feature.export_data(call.subject))
                else:
                    erased: Erased = await feature.erase_data(call.subject)
                    result = {"removed": erased.removed, "anonymised": erased.anonymised}
            except Exception as exc:
                log.exception("%s: %s for another process failed", call.feature, call.op)
                error = type(exc).__name__
        answer = RightsAnswer(self.replication.origin, call.id, result, error)
        self.replication.post(call.origin, answer)

    # -- at home -----------------------------------------------------------------

    def receive(self, msg: HomeMessage) -> None:
        """A forwarded message or hook, or a data-rights call or answer (the bus reader
        calls this)."""
        if isinstance(msg, RightsAnswer | HttpAnswer):
            waiting = self._calls.get(msg.id)
            if waiting is not None and not waiting.done():
                waiting.set_result(msg)
            return
        if isinstance(msg, RightsCall):
            if self.replication is not None:
                self.replication.tasks.spawn(self._answer_rights(msg), name="home-rights")
            return
        if isinstance(msg, HttpCall):
            if self.replication is not None:
                self.replication.tasks.spawn(self._answer_http(msg), name="home-http")
            return
        if self.replication is None or self.dispatcher is None:
            return
        if not self.is_home:
            # Sent to an old home (the lease moved while it was on its way): a message
            # is refused as while a new home starts, so its client tries again.
            if msg.hook == "message":
                sender = RemoteSender(_person(msg.person), msg.origin, self.replication)
                sender.reply(_error(ErrorCode.NOT_READY, NOT_READY_REASON, _ref(msg.body)))
            return
        if not self.ready:
            if msg.hook != "message":
                self._held.append(msg)
                return
            sender = RemoteSender(_person(msg.person), msg.origin, self.replication)
            sender.reply(_error(ErrorCode.NOT_READY, NOT_READY_REASON, _ref(msg.body)))
            return
        feature = next((f for f in self.dispatcher.features if f.name == msg.feature), None)
        if feature is None:
            log.warning("cluster: a forward for an unknown feature %r", msg.feature)
            return
        person = _person(msg.person)
        sender = RemoteSender(person, msg.origin, self.replication)
        if msg.hook == "message":
            work: Awaitable[None] = self._handle(sender, msg.body)
        elif msg.hook == "entered":
            work = feature.entered(person, msg.flag)
        elif msg.hook == "left":
            work = feature.left(person, msg.flag)
        else:
            work = self._zone(feature, person, msg.body.decode())
        self._in_turn(person.id, work, f"home-{msg.feature}-{msg.hook}")

    def _in_turn(self, entity: int, work: Awaitable[None], name: str) -> None:
        """Run one person's forwarded messages and hooks one after another, in the order
        they were sent (as their own process's edge would), others' side by side."""
        before = self._turns.get(entity)

        async def run() -> None:
            if before is not None:
                await asyncio.wait({before})
            await work

        assert self.replication is not None
        task = self.replication.tasks.spawn(run(), name=name)
        self._turns[entity] = task

        def done(t: asyncio.Task[Any]) -> None:
            if self._turns.get(entity) is t:
                del self._turns[entity]

        task.add_done_callback(done)

    @staticmethod
    async def _zone(feature: Feature, person: Person, zone: str) -> None:
        feature.zone_changed(person, zone)

    async def _handle(self, sender: RemoteSender, body: bytes) -> None:
        assert self.dispatcher is not None
        ref: str | None = None
        try:
            msg = decode_client(body)  # validated at the client's edge; again here
            ref = msg["t"]
            handler = self.dispatcher.handlers.get(ref)
            if handler is None:
                raise ProtocolError(ErrorCode.UNKNOWN_TYPE, "Not a feature message.", ref)
            await handler(sender, msg)
        except ProtocolError as exc:
            sender.reply(_error(exc.code, exc.reason, exc.ref or ref))
        except Exception:
            log.exception("handler failed for a forwarded %s", ref)
            sender.reply(_error(ErrorCode.INTERNAL, "The server could not handle that.", ref))


def _error(code: str, reason: str, ref: str | None) -> dict[str, Any]:
    msg: dict[str, Any] = {"t": "error", "code": code, "msg": reason}
    if ref:
        msg["ref"] = ref
    return msg


def _ref(body: bytes) -> str | None:
    """The type of a forwarded client message, for the ``ref`` of a refusal (None when
    it does not decode: it is refused all the same)."""
    try:
        return str(decode_client(body)["t"])
    except (ProtocolError, KeyError, TypeError):
        return None


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
