"""A citizen's export and erasure asked on a process that is not the feature home: the
desks' and feedback's part is asked at the home (which holds their state), so the
export has the ticket and the survey answer, and after the erasure neither the store
nor the home's memory has the citizen's name or words. The retention job leaves the
home features' kinds to the home."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from agents.client import AgentClient
from protocol.errors import CloseCode
from server.store import RedisStore
from tests.server.cluster.conftest import shared_space
from tests.server.harness import open_desk_call, staff_agent, ws_url
from tests.server.test_rights import _my_data, _redis_dump, _use_everything


async def test_export_and_erasure_on_another_process_reach_the_home(tmp_path: Path) -> None:
    tag = "Q" + uuid.uuid4().hex[:10]
    async with shared_space(tmp_path) as (a, b):
        assert a.home is not None and a.home.is_home
        assert isinstance(b.store, RedisStore)
        async with (
            staff_agent(b, "Sara Lind", subject="sara") as sara,
            AgentClient(ws_url(b), name=f"Ada{tag}") as ada,
        ):
            await _use_everything(b, ada, sara, tag)
            data = await _my_data(ada)
            [ticket] = data["desks"]["tickets"]  # from the home: b's desks never started
            assert ticket["name"] == f"Ada{tag}"
            assert f"helpful {tag}" in json.dumps(data["feedback"])

            await ada.send({"t": "my_data_erase", "confirm": True})
            erased = await ada.expect("my_data_erased", timeout=30)
            assert erased["removed"] + erased["anonymised"] >= 3
            code, _reason = await ada.wait_closed()
            assert code == CloseCode.ERASED
            await sara.sync()
        await b.store.compact()
        dump = await _redis_dump(b.store)
        assert tag not in dump
        desks = a.feature("desks").service  # type: ignore[attr-defined]
        assert not [t for t in desks.queue.tickets.values() if tag in t.name]


async def test_retention_elsewhere_leaves_the_home_features_to_the_home(tmp_path: Path) -> None:
    async with shared_space(tmp_path) as (a, b):
        assert a.retention is not None and b.retention is not None
        async with (
            staff_agent(b, "Sara Lind", subject="sara") as sara,
            AgentClient(ws_url(b), name="Ada Old") as ada,
        ):
            await open_desk_call(sara, ada)
            await sara.send({"t": "close_case", "outcome": "resolved"})
            await ada.expect("ticket", status="done", timeout=15)

        async def names() -> list[str]:
            queue = await b.store.keyspace("desks").read("queue")
            return [f["name"] for _id, f in queue if f.get("name")]

        assert await names() == ["Ada Old"]
        later = time.time() + 500 * 86400  # past the tickets' 400 days
        await b.retention.run(later)
        assert await names() == ["Ada Old"]  # b holds no queue: the home's to expire
        await a.retention.run(later)
        assert await names() == []
