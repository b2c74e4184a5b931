"""`Chat`: nearby and zone text chat.

Text is redacted (`server.privacy`) before it is stored or shown. A line is
encoded once and the same bytes go to every recipient. Only zone chat is
stored (the last ``history`` lines per zone, in a capped list of the
feature's keyspace: ``sp:chat:zone:<zone>``); nearby chat is a conversation
and is not archived. Someone entering a zone gets its recent lines.

Personal data: the zone history keeps each line's author subject (``s``, never
sent) so that a person's own lines can be exported and erased (`export_data`,
`erase_data`: their lines are removed from every zone's history). Retention
(`expire_data`, ``chat_lines``): lines older than the limit leave the history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgpack

from protocol.codec import Message
from protocol.messages import chat as wire
from server.features.chat.settings import ChatSettings
from server.plug import Erased, Feature, FeatureContext, Handler, Person, Sender
from server.privacy import redact


def zone_key(zone: str) -> str:
    return "zone:" + zone


class Chat(Feature):
    name = "chat"
    protocol = wire.PROTOCOL
    Settings = ChatSettings
    personal_data = ("chat_lines",)

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx)
        self._lines = ctx.metrics.counter("lines", "Chat lines sent, by scope.", ("scope",))

    @property
    def settings(self) -> ChatSettings:
        settings: ChatSettings = self.ctx.settings
        return settings

    def handlers(self) -> Mapping[str, Handler]:
        return {"chat": self.on_chat}

    def limits(self) -> Mapping[str, Any]:
        return {"chat_radius": self.settings.radius}

    async def on_chat(self, sender: Sender, msg: Message) -> None:
        await self.say(sender.person, msg["scope"], msg["text"])

    async def say(self, person: Person, scope: str, text: str) -> int:
        """Send a line from ``person``; returns how many received it."""
        ctx = self.ctx
        zone = ctx.people.zone(person.id) or ""
        item: dict[str, Any] = {
            **person.public(),
            "scope": scope,
            "zone": zone,
            "text": redact(text),
            "ts": ctx.clock.time(),
        }
        line = {"t": "chat", **item}
        self._lines.labels(scope).inc()
        if scope == "zone":
            if self.settings.history:
                await ctx.store.push(
                    zone_key(zone),
                    msgpack.packb({**item, "s": person.subject}),
                    keep=self.settings.history,
                )
            if self._blocking(person):
                return ctx.notify.to_many(
                    self._unblocked(person, ctx.people.in_zone(zone, everywhere=True)), line
                )
            return ctx.notify.zone(zone, line)
        position = ctx.people.position(person.id)
        if position is None:
            return 0
        if self._blocking(person):
            near = ctx.people.near(position[0], position[1], self.settings.radius, everywhere=True)
            return ctx.notify.to_many(self._unblocked(person, near), line)
        return ctx.notify.near(position[0], position[1], self.settings.radius, line)

    def _blocking(self, person: Person) -> frozenset[str]:
        """Subjects who blocked ``person`` or whom they blocked (neither sees the other)."""
        blocks = self.ctx.blocks
        return blocks.involving(person.subject) if blocks is not None else frozenset()

    def _unblocked(self, person: Person, entities: list[int]) -> list[int]:
        hidden = self._blocking(person)
        people = self.ctx.people
        return [e for e in entities if (p := people.find(e)) is None or p.subject not in hidden]

    async def history(self, zone: str) -> dict[str, Any]:
        n = self.settings.history
        raw = await self.ctx.store.slice(zone_key(zone), -n, -1) if n else []
        items = [msgpack.unpackb(r, raw=False) for r in raw]
        for item in items:
            item.pop("s", None)
        return {"t": "history", "zone": zone, "items": items}

    async def _zone_lines(self) -> dict[str, list[dict[str, Any]]]:
        store = self.ctx.store
        out: dict[str, list[dict[str, Any]]] = {}
        for key in await store.scan(zone_key("*")):
            out[key] = [msgpack.unpackb(r, raw=False) for r in await store.slice(key)]
        return out

    async def export_data(self, subject: str) -> Mapping[str, Any]:
        lines = [
            {k: v for k, v in item.items() if k != "s"}
            for items in (await self._zone_lines()).values()
            for item in items
            if item.get("s") == subject
        ]
        lines.sort(key=lambda item: float(item.get("ts", 0)))
        return {"chat_lines": lines}

    async def erase_data(self, subject: str) -> Erased:
        return Erased(removed=await self._drop_lines(lambda item: item.get("s") == subject))

    async def expire_data(self, kind: str, before: float) -> Erased:
        """``chat_lines`` written before ``before`` leave every zone's history."""
        if kind != "chat_lines":
            raise ValueError(f"chat keeps no {kind!r}")
        return Erased(
            removed=await self._drop_lines(lambda item: float(item.get("ts", 0)) < before)
        )

    async def _drop_lines(self, dropped: Callable[[dict[str, Any]], bool]) -> int:
        """Remove the history lines ``dropped`` selects from every zone; how many."""
        store = self.ctx.store
        removed = 0
        for key, items in (await self._zone_lines()).items():
            kept = [item for item in items if not dropped(item)]
            if len(kept) == len(items):
                continue
            removed += len(items) - len(kept)
            await store.delete(key)
            if kept:
                await store.push(key, *[msgpack.packb(item) for item in kept])
        return removed

    async def entered(self, person: Person, resumed: bool) -> None:
        zone = self.ctx.people.zone(person.id)
        if zone is not None:
            self.ctx.notify.to(person.id, await self.history(zone))

    def zone_changed(self, person: Person, zone: str) -> None:
        async def send_history() -> None:
            self.ctx.notify.to(person.id, await self.history(zone))

        self.ctx.tasks.spawn(send_history(), name="chat history")
