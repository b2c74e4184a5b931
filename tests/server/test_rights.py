"""A citizen's data rights on a live server: export, then erasure that leaves nothing.

Real sockets, the embedded Redis, its append-only file rewritten (BGREWRITEAOF),
and the data directory scanned byte by byte afterwards.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

from agents.client import AgentClient
from protocol.errors import CloseCode
from server.app import ServicePoint
from server.features import FEATURES
from server.plug import Feature
from server.rights import DataRights
from server.store import RedisStore
from tests.server.harness import KEYRING, open_desk_call, running_server, staff_agent, ws_url


def test_every_feature_says_what_personal_data_it_keeps() -> None:
    """A feature cannot forget data rights: it declares its kinds, and one with kinds
    implements export, erasure and expiry (the app refuses to start otherwise)."""
    for cls in FEATURES:
        assert cls.personal_data is not None, cls.name
        if cls.personal_data:
            assert cls.export_data is not Feature.export_data, cls.name
            assert cls.erase_data is not Feature.erase_data, cls.name
            assert cls.expire_data is not Feature.expire_data, cls.name
    kept = {kind for cls in FEATURES for kind in cls.personal_data or ()}
    assert {"chat_lines", "qa_posts"} <= kept


def test_a_feature_that_forgets_is_refused() -> None:
    class Silent(Feature):
        name = "silent"

    class Careless(Feature):
        name = "careless"
        personal_data = ("notes",)

    for cls, words in ((Silent, "must declare"), (Careless, "does not implement")):
        with pytest.raises(TypeError, match=words):
            DataRights.check([cls.__new__(cls)])


async def _my_data(agent: AgentClient) -> dict[str, Any]:
    await agent.send({"t": "my_data"})
    first = await agent.expect("my_data", part=1)
    parts = [first]
    for n in range(2, first["parts"] + 1):
        parts.append(await agent.expect("my_data", part=n))
    data: dict[str, Any] = json.loads("".join(p["data"] for p in parts))
    return data


async def _redis_dump(store: RedisStore) -> str:
    """Every key and every value in the embedded Redis, as text."""
    redis = store.redis
    out: list[str] = []
    async for raw_key in redis.scan_iter("*"):
        key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
        kind = await redis.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        value: Any
        if kind == "string":
            value = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = await redis.xrange(key)
        else:
            raise AssertionError(f"unexpected Redis type {kind} of {key}")
        out.append(f"{key} {value!r}")
    return "\n".join(out)


def _on_disk(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


async def _use_everything(sp: ServicePoint, who: AgentClient, sara: AgentClient, tag: str) -> None:
    """Chat in the zone, post on the Q&A wall, take a ticket, be served and rate it."""
    await who.chat(f"zone line {tag}", scope="zone")
    await who.send(
        {
            "t": "qa_post",
            "type": "question",
            "title": f"Moving house {tag}",
            "body": f"When is my move registered {tag}?",
            "lang": "en",
            "service": "registration",
        }
    )
    await who.expect("qa_posted")
    await open_desk_call(sara, who)
    await sara.send({"t": "close_case", "outcome": "resolved"})
    await who.expect("ticket", status="done")
    survey = await who.expect("survey")
    await who.send(
        {
            "t": "survey_answer",
            "survey": survey["survey"],
            "rating": 4,
            "comment": f"helpful {tag}",
        }
    )
    await who.expect("survey_done")


async def test_a_citizen_exports_then_erases_and_nothing_is_left(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tag, other_tag = "Q" + uuid.uuid4().hex[:10], "K" + uuid.uuid4().hex[:10]
    async with running_server(tmp_path) as sp:
        assert isinstance(sp.store, RedisStore)
        sara = staff_agent(sp)
        ada = AgentClient(ws_url(sp), name=f"Ada{tag}")
        bo = AgentClient(ws_url(sp), name=f"Bo{other_tag}")  # another citizen, who stays
        for agent in (sara, ada, bo):
            await agent.connect()
        assert ada.citizen is not None
        subject = "citizen:" + KEYRING.verify_citizen(ada.citizen)

        await _use_everything(sp, bo, sara, other_tag)
        await sara.send({"t": "duty", "status": "away"})
        await _use_everything(sp, ada, sara, tag)
        await ada.send({"t": "block", "id": bo.id, "on": True})
        await ada.expect("blocked")

        data = await _my_data(ada)
        text = json.dumps(data, ensure_ascii=False)
        assert tag in json.dumps(data["chat"]["chat_lines"])
        assert [p["title"] for p in data["qa"]["qa_posts"]] == [f"Moving house {tag}"]
        assert data["desks"]["tickets"], data["desks"]
        assert f"helpful {tag}" in json.dumps(data["feedback"])
        assert data["blocks"] == {"blocked": 1}
        assert data["identity"]["verified"] is False
        assert other_tag not in text and subject not in text  # only Ada's, and no raw key
        assert tag in await _redis_dump(sp.store)  # the scan below can see what it looks for

        # Refused without confirm; the connection stays.
        await ada.send({"t": "my_data_erase", "confirm": False})
        assert (await ada.expect("error"))["code"] == "not_confirmed"
        await ada.send({"t": "my_data_erase", "confirm": True})
        erased = await ada.expect("my_data_erased")
        assert erased["removed"] + erased["anonymised"] >= 5
        code, _reason = await ada.wait_closed()
        assert code == CloseCode.ERASED
        await sara.sync()
        await bo.sync()
        await sp.store.compact()  # after the second pass that follows the close

        dump = await _redis_dump(sp.store)
        disk = _on_disk(tmp_path)
        for needle in (tag, subject, subject.removeprefix("citizen:")):
            assert needle not in dump, needle
            assert needle.encode() not in disk, needle
        assert "erased:" in dump  # the audit entry of the call stays, pseudonymised
        assert other_tag in dump and other_tag.encode() in disk  # Bo's data is untouched

        # The queue statistic stays: Bo's and Ada's (anonymised) cases still count.
        queue = await sp.store.keyspace("desks").read("queue")
        assert len([f for _id, f in queue if f.get("type") == "ended"]) == 2

        # Ada comes back with her old key: she is a stranger with nothing.
        again = AgentClient(ws_url(sp), name="Ada", citizen=ada.citizen)
        await again.connect()
        after = await _my_data(again)
        assert not after["chat"]["chat_lines"] and not after["qa"]["qa_posts"]
        assert not after["desks"]["tickets"] and after["blocks"] == {"blocked": 0}
        for agent in (again, sara, bo):
            await agent.close()

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert subject not in logged and tag not in logged
