"""Nearby and zone text chat; the last lines of each zone are kept in the store.

Text is redacted (`server.privacy`) before it is stored or shown. A line is
encoded once and the same bytes go to every recipient. Only zone chat is
stored; nearby chat is a conversation and is not archived.
"""

from __future__ import annotations

import time
from typing import Any

from server.config import Config
from server.link import broadcast
from server.privacy import redact
from server.space import Avatar, Space
from server.store import Store


class ChatService:
    def __init__(self, space: Space, store: Store, config: Config) -> None:
        self.space = space
        self.store = store
        self.config = config

    async def say(self, avatar: Avatar, scope: str, text: str) -> None:
        zone = self.space.zone_of(avatar)
        item: dict[str, Any] = {
            **{k: v for k, v in avatar.identity().items() if k in ("id", "name", "role")},
            "scope": scope,
            "zone": self.space.zone_name(zone),
            "text": redact(text),
            "ts": time.time(),
        }
        if scope == "zone":
            await self.store.append_chat(item["zone"], item, self.config.chat_history)
            recipients = self.space.in_zone(zone)
        else:
            x, z = self.space.positions[avatar.slot].tolist()
            slots = self.space.near(x, z, self.config.chat_radius).tolist()
            recipients = [a for a in (self.space.avatars[s] for s in slots) if a is not None]
        broadcast((a.link for a in recipients), {"t": "chat", **item})

    async def history(self, zone: str) -> dict[str, Any]:
        items = await self.store.recent_chat(zone, self.config.chat_history)
        return {"t": "history", "zone": zone, "items": items}
