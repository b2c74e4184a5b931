"""State written with the key layout before the feature plug survives the upgrade."""

from __future__ import annotations

import msgpack
import redis.asyncio as aioredis

from agents.client import AgentClient
from server.store.legacy import new_name
from tests.server.harness import desk_events, running_server, ws_url, zone_chat


def test_old_names_map_once_and_new_names_stay() -> None:
    assert new_name("sp:log:queue") == "sp:desks:queue"
    assert new_name("sp:seq:ticket:general") == "sp:desks:ticket:general"
    assert new_name("sp:chat:lobby") == "sp:chat:zone:lobby"
    assert new_name("sp:chat:zone:lobby") is None
    assert new_name("sp:desks:queue") is None


async def test_a_queue_and_chat_from_the_old_layout_are_still_there(
    tmp_path: object, external_redis_url: str
) -> None:
    client = aioredis.from_url(external_redis_url)
    await client.flushdb()
    await client.xadd(
        "sp:log:queue",
        {
            "type": "arrived",
            "ticket": "A-007",
            "ts": "1.0",
            "service": "general",
            "lang": "sv",
            "citizen": "42",
            "name": "Ada",
        },
    )
    await client.set("sp:seq:ticket:general", 7)
    await client.rpush(
        "sp:chat:lobby",
        msgpack.packb(
            {
                "id": 1,
                "name": "Bo",
                "role": "citizen",
                "scope": "zone",
                "zone": "lobby",
                "text": "before",
                "ts": 1.0,
            }
        ),
    )
    await client.set("sp:entity_seq", 100)
    await client.aclose()
    async with running_server(tmp_path, redis_url=external_redis_url) as sp:  # type: ignore[arg-type]
        assert [e["ticket"] for e in await desk_events(sp)] == ["A-007"]
        assert [line["text"] for line in await zone_chat(sp, "lobby", 5)] == ["before"]
        async with AgentClient(ws_url(sp), name="Cy") as cy:
            assert cy.id == 101  # entity ids never repeat, across the upgrade too
            await cy.send({"t": "take_ticket", "service": "general", "lang": "sv"})
            assert (await cy.expect("ticket"))["ticket"] == "A-008"
