"""Retention: each kind of personal data is kept only as long as configured, on a live
server with the embedded Redis; expired text is on no disk afterwards (BGREWRITEAOF).

Also here: a citizen's tickets from an earlier session are found by their data rights
(the queue log carries a one-way digest of the subject, never the subject).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from agents.client import AgentClient
from server.app import ServicePoint
from server.config import DEFAULT_RETENTION_DAYS
from server.features import FEATURES
from server.retention import DAY_S, Retention
from server.store import RedisStore
from tests.server.harness import KEYRING, running_server, staff_agent, ws_url
from tests.server.test_rights import _my_data, _on_disk, _redis_dump, _use_everything


def test_limits_must_name_kinds_that_features_keep() -> None:
    features = [cls.__new__(cls) for cls in FEATURES]
    owners = Retention.check(features, {"chat_lines": 30, "tickets": 0})
    assert owners["chat_lines"].name == "chat" and owners["tickets"].name == "desks"
    with pytest.raises(ValueError, match="chat_line, which no feature keeps"):
        Retention.check(features, {"chat_line": 30})
    with pytest.raises(ValueError, match="must be 0 or more"):
        Retention.check(features, {"tickets": -1})


async def test_a_server_refuses_a_limit_on_an_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no feature keeps"):
        async with running_server(tmp_path, retention_days={"tickts": 30}):
            pass


async def _queue(sp: ServicePoint) -> list[dict[str, str]]:
    return [f for _id, f in await sp.store.keyspace("desks").read("queue")]


async def test_old_data_expires_and_a_later_session_still_finds_its_own(tmp_path: Path) -> None:
    tag = "R" + uuid.uuid4().hex[:10]
    limits = {**DEFAULT_RETENTION_DAYS, "qa_posts": 400.0}  # every feature's job runs
    async with running_server(tmp_path, retention_days=limits) as sp:
        assert isinstance(sp.store, RedisStore) and sp.retention is not None
        sara = staff_agent(sp)
        ada = AgentClient(ws_url(sp), name=f"Ada{tag}")
        for agent in (sara, ada):
            await agent.connect()
        assert ada.citizen is not None
        await _use_everything(sp, ada, sara, tag)
        await ada.close()

        # A later session with the same key: the ticket and the comment are still hers.
        again = AgentClient(ws_url(sp), name="Ada", citizen=ada.citizen)
        await again.connect()
        data = await _my_data(again)
        assert [t["name"] for t in data["desks"]["tickets"]] == [f"Ada{tag}"]
        assert f"helpful {tag}" in json.dumps(data["feedback"])
        subject = "citizen:" + KEYRING.verify_citizen(ada.citizen)
        # ... found by a digest: the queue log and the answers never hold the subject.
        logs = json.dumps(await _queue(sp)) + json.dumps(
            [f for _id, f in await sp.store.keyspace("feedback").read("answers")]
        )
        assert subject.removeprefix("citizen:") not in logs

        # Nothing is old yet: a run now changes nothing and records nothing.
        first = await sp.retention.run()
        assert first.removed == first.anonymised == 0
        # Four hundred and one days later (the defaults: chat 30 days, tickets, notes
        # and survey answers 400; here Q&A posts 400 too) the run expires them.
        later = await sp.retention.run(now=time.time() + 401 * DAY_S)
        assert {"chat_lines", "tickets", "survey_answers", "qa_posts"} <= set(later.done)
        assert later.done["chat_lines"].removed == 1
        assert later.done["tickets"].anonymised == 1
        assert later.done["survey_answers"].anonymised == 1
        await sara.sync()

        queue = await _queue(sp)
        assert queue and not any({"name", "citizen", "holder"} & set(f) for f in queue)
        assert [f["type"] for f in queue].count("ended") == 1  # the statistic stays
        answers = [f for _id, f in await sp.store.keyspace("feedback").read("answers")]
        assert [f["rating"] for f in answers if f["type"] == "answered"] == ["4"]
        dump = await _redis_dump(sp.store)
        disk = _on_disk(tmp_path)
        for gone in (f"zone line {tag}", f"helpful {tag}", f"Moving house {tag}"):
            assert gone not in dump, gone
            assert gone.encode() not in disk, gone
        assert f"Ada{tag}" not in json.dumps(queue)
        entries = await sp.audit.search(action="rights.retention") if sp.audit else []
        assert len(entries) == 1 and tag not in json.dumps(entries)
        assert "1 removed" in json.loads(entries[0]["detail"])["chat_lines"]

        # Afterwards her rights find nothing of what expired.
        data = await _my_data(again)
        assert not data["desks"]["tickets"] and not data["chat"]["chat_lines"]
        assert not data["qa"]["qa_posts"]
        assert f"helpful {tag}" not in json.dumps(data["feedback"])
        for agent in (again, sara):
            await agent.close()


async def test_the_job_runs_on_its_schedule(tmp_path: Path) -> None:
    limits = {"chat_lines": 1e-9}  # a tenth of a millisecond
    async with running_server(tmp_path, retention_days=limits, retention_every_s=0.05) as sp:
        assert sp.retention is not None and sp.retention.job is not None
        async with AgentClient(ws_url(sp), name="Eli") as eli:
            await eli.chat("a line that will not stay", scope="zone")
            await eli.sync()
            chat = sp.store.keyspace("chat")
            zones = await chat.scan("zone:*")
            assert zones
            while await chat.slice(zones[0]):
                await sp.retention.job.next()
        assert sp.retention.last is not None
