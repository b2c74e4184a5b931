"""One space across two server processes' worth of `ServicePoint` on one real Redis:
real WebSocket clients on different servers see each other, chat and are kicked
across; a server that vanishes takes its avatars out of every view."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import pytest

from agents.client import AgentClient
from server.cluster import codec
from server.cluster.codec import Beat, SnapshotRequest
from server.cluster.replication import node_channel
from tests.server.cluster.conftest import shared_space, until
from tests.server.harness import staff_agent, ws_url


async def test_clients_on_two_servers_see_each_other_enter_and_move(tmp_path: Path) -> None:
    async with (
        shared_space(tmp_path) as (a, b),
        AgentClient(ws_url(a), name="Ada") as ada,
        AgentClient(ws_url(b), name="Bo") as bo,
    ):
        await ada.wait_for(lambda: bo.id in ada.others, timeout=30.0)
        await bo.wait_for(lambda: ada.id in bo.others, timeout=30.0)
        assert ada.others[bo.id].name == "Bo" and bo.others[ada.id].name == "Ada"
        # Each server owns its own client's avatar and holds the other as a replica.
        assert a.space.by_id[bo.id].origin > 0 and a.space.by_id[ada.id].origin == 0
        assert b.space.by_id[ada.id].origin > 0
        target = (bo.x + 1.5, bo.z + 0.5)
        await bo.move(*target)
        await ada.wait_for(
            lambda: math.dist((ada.others[bo.id].x, ada.others[bo.id].z), target) < 0.05
        )


async def test_near_and_zone_chat_reach_the_other_server(tmp_path: Path) -> None:
    async with (
        shared_space(tmp_path) as (a, b),
        AgentClient(ws_url(a), name="Ada") as ada,
        AgentClient(ws_url(b), name="Bo") as bo,
    ):
        await ada.wait_for(lambda: bo.id in ada.others, timeout=30.0)
        await bo.wait_for(lambda: ada.id in bo.others, timeout=30.0)
        await ada.chat("Hello from the first server", scope="near")
        line = await bo.expect("chat", text="Hello from the first server")
        assert line["scope"] == "near" and line["name"] == "Ada"
        await bo.chat("Hej from the second", scope="zone")
        line = await ada.expect("chat", text="Hej from the second")
        assert line["scope"] == "zone" and line["name"] == "Bo"
        assert (await bo.expect("chat", text="Hej from the second"))["name"] == "Bo"


async def test_a_host_kicks_an_avatar_on_the_other_server(tmp_path: Path) -> None:
    async with (
        shared_space(tmp_path) as (a, b),
        staff_agent(a, "Hana Host", role="host") as hana,
        AgentClient(ws_url(b), name="Troll") as troll,
    ):
        await hana.wait_for(lambda: troll.id in hana.others, timeout=30.0)
        await hana.send({"t": "kick", "id": troll.id, "reason": "spam"})
        code, _reason = await troll.wait_closed()
        assert code == 4004
        await hana.wait_for(lambda: troll.id not in hana.others)
        assert not hana.taken("error")


async def test_a_vanished_server_s_avatars_leave_within_the_lease(tmp_path: Path) -> None:
    async with (
        shared_space(tmp_path, cluster_lease_s=1.0) as (a, b),
        AgentClient(ws_url(a), name="Ada") as ada,
        AgentClient(ws_url(b), name="Bo") as bo,
    ):
        await ada.wait_for(lambda: bo.id in ada.others, timeout=30.0)
        bo_id = bo.id
        # Stop b's publishing without letting it say goodbye: its lease runs out.
        assert b.replication is not None
        b.tick.after_tick.remove(b.replication.after_tick)
        await ada.wait_for(lambda: bo_id not in ada.others, timeout=5.0)
        assert bo_id not in a.space.by_id


async def test_a_beat_removes_replicas_their_owner_no_longer_lists(tmp_path: Path) -> None:
    async with (
        shared_space(tmp_path) as (a, b),
        AgentClient(ws_url(a), name="Ada") as ada,
        AgentClient(ws_url(b), name="Bo") as bo,
    ):
        await ada.wait_for(lambda: bo.id in ada.others, timeout=30.0)
        await bo.close()  # a graceful leave: b stops listing Bo, a's replica goes
        await ada.wait_for(lambda: bo.id not in ada.others)
        assert a.replication is not None and b.replication is not None
        # A beat from a process never heard of removes nothing of anyone else's.
        before = len(a.space)
        a.replication.receive(Beat("feedfacecafe", 10**9, 0.0))
        assert len(a.space) == before


def test_a_resumed_avatar_replaces_its_stale_replica_and_never_doubles() -> None:
    from server.config import Config
    from server.space import Avatar, Space
    from server.world import load_world
    from spatial.movement import MovementRules

    world = load_world(Config().world_path)
    space = Space(world, MovementRules(world.bounds, world.walls, 3.0), 8, 100)
    replica = space.add(Avatar(7, "Bo", "citizen", 0, "round", origin=1), 0.0, 0.0, 0.0, 0.0)
    # Bo resumes here before the old owner's next beat: the replica goes, one Bo stays.
    local = space.add(Avatar(7, "Bo", "citizen", 0, "round"), 1.0, 1.0, 0.0, 0.0)
    assert space.by_id[7] is local and replica.slot == -1
    assert int(space.active.sum()) == 1 and int(space.origin.sum()) == 0
    with pytest.raises(ValueError, match="already in the space"):
        space.add(Avatar(7, "Bo", "citizen", 0, "round", origin=2), 0.0, 0.0, 0.0, 0.0)


async def test_a_resume_on_the_other_server_moves_the_avatar_exactly_once(
    tmp_path: Path,
) -> None:
    async with (
        shared_space(tmp_path) as (a, b),
        AgentClient(ws_url(a), name="Ada") as ada,
        AgentClient(ws_url(b), name="Watcher") as watcher,
        # Someone stays on a: a process with no observer of its own subscribes to no
        # region, so it would rightly show Ada to nobody once she moved.
        AgentClient(ws_url(a), name="Ana") as ana,
    ):
        await watcher.wait_for(lambda: ada.id in watcher.others, timeout=30.0)
        await ana.wait_for(lambda: watcher.id in ana.others, timeout=30.0)
        # Ada's connection on a is still open when her resume token arrives at b
        # (a reconnect routed to the other process): a lets go, b takes her over.
        again = AgentClient(ws_url(b), name="Ada", resume=ada.resume)
        async with again:
            assert again.welcome is not None and again.welcome["resumed"]
            assert again.id == ada.id
            code, _ = await ada.wait_closed()
            assert code == 4009
            await watcher.wait_for(
                lambda: ada.id in b.space.by_id and b.space.by_id[ada.id].origin == 0
            )
            assert ada.id not in a.hub.by_avatar
            # One Ada everywhere: owned by b, a replica on a (once b's batch is heard).
            await watcher.wait_for(
                lambda: ada.id in a.space.by_id and a.space.by_id[ada.id].origin > 0
            )
            await ana.wait_for(lambda: ada.id in ana.others, timeout=30.0)
            assert sum(1 for av in b.space.by_id.values() if av.name == "Ada") == 1
            assert sum(1 for av in a.space.by_id.values() if av.name == "Ada") == 1
            assert int((b.space.entity_ids[b.space.active] == ada.id).sum()) == 1
            assert int((a.space.entity_ids[a.space.active] == ada.id).sum()) == 1


async def test_a_server_that_falls_behind_the_bus_resubscribes_and_resyncs(
    tmp_path: Path,
) -> None:
    async with (
        shared_space(tmp_path) as (a, b),
        AgentClient(ws_url(a), name="Ada") as ada,
        AgentClient(ws_url(b), name="Bo") as bo,
    ):
        await ada.wait_for(lambda: bo.id in ada.others, timeout=30.0)
        assert a.replication is not None and b.replication is not None
        # A beat of b's heard five seconds after it was sent: a is behind.
        a.replication.receive(Beat(b.replication.origin, 1, time.time() - 5.0))
        assert a.replication.behind
        await ada.wait_for(lambda: not a.replication.behind)  # type: ignore[union-attr]
        target = (bo.x + 1.0, bo.z)
        await bo.move(*target)  # the fresh subscription carries b's avatars again
        await ada.wait_for(
            lambda: (
                bo.id in ada.others
                and math.dist((ada.others[bo.id].x, ada.others[bo.id].z), target) < 0.05
            )
        )
        resyncs = a.metrics.render().decode()
        assert "servicepoint_cluster_bus_resyncs_total 1.0" in resyncs
        # Bo stayed in view throughout: the resubscription dropped no replica.
        assert not [m for m in ada.taken("leave") if bo.id in m["ids"]]


async def test_the_first_beat_after_subscribing_drops_no_replica(tmp_path: Path) -> None:
    """The batches of the first beat's tick may have gone out before the regions were
    subscribed: only a later beat may take an unlisted avatar out of view."""
    async with (
        shared_space(tmp_path) as (a, b),
        AgentClient(ws_url(a), name="Ada") as ada,
        AgentClient(ws_url(b), name="Bo") as bo,
    ):
        await ada.wait_for(lambda: bo.id in ada.others, timeout=30.0)
        assert a.replication is not None and b.replication is not None
        # Stop b's publishing, so that only the beats below reach a.
        b.tick.after_tick.remove(b.replication.after_tick)
        origin = a.replication._origins[b.replication.origin]
        origin.armed = False  # as just after a (re)subscription
        ahead = origin.tick + 1000
        a.replication.receive(Beat(b.replication.origin, ahead, time.time()))
        assert bo.id in a.space.by_id and origin.armed
        a.replication.receive(Beat(b.replication.origin, ahead + 1, time.time()))
        assert bo.id not in a.space.by_id  # a later beat does: Bo was not listed
        await ada.wait_for(lambda: bo.id not in ada.others)


async def test_a_process_heard_again_after_its_lease_ran_out_is_asked_for_a_snapshot(
    tmp_path: Path,
) -> None:
    """A starved process (here, or the other one) lets the other's lease run out: its
    avatars and its people leave the directory here. When it is heard again, it alone
    is asked for a snapshot, so they come back in a round trip (CI once found a staff
    member missing from the directory of a process that had just been starved)."""
    async with shared_space(tmp_path) as (a, b), staff_agent(a, "Sara Lind", subject="sara"):
        await until(lambda: b.people.find_subject("id:sara") is not None)
        pubsub = a.replication.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(node_channel(a.replication.origin))
        try:
            # b's clock says a has been silent for a minute: a's lease runs out at b.
            b.replication._expire(time.monotonic() + 60.0)
            assert b.people.find_subject("id:sara") is None
            async with asyncio.timeout(10):
                while True:
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is None or msg["type"] != "message":
                        continue
                    heard = codec.decode(msg["data"])
                    if isinstance(heard, SnapshotRequest):
                        assert heard.origin == b.replication.origin
                        break
            await until(lambda: b.people.find_subject("id:sara") is not None)
            person = b.people.find_subject("id:sara")
            assert person is not None and person.name == "Sara Lind"
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
