"""`SharedStage` between a home and another process, over the real codec: what the home
stages reaches the other's slots (replicas that come later too), a lost message is
healed by the next snapshot, and rider payloads go out one per tick, never piling up."""

from __future__ import annotations

from server.cluster import codec
from server.cluster.codec import Stage, Staged
from server.cluster.stage import RIDER_QUEUE, SharedStage
from server.config import Config
from server.riders import Riders
from server.space import Avatar, Space
from server.world import load_world
from spatial.movement import MovementRules


def _space() -> Space:
    world = load_world(Config().world_path)
    return Space(world, MovementRules(world.bounds, world.walls, 3.0), 8, 100)


def _pair() -> tuple[SharedStage, SharedStage, Space, Riders, list[Stage]]:
    sent: list[Stage] = []
    home = SharedStage(
        _space(), Riders(), "home", is_home=lambda: True, broadcast=sent.append, hz=20
    )
    space, riders = _space(), Riders()
    other = SharedStage(space, riders, "other", is_home=lambda: False, broadcast=sent.append, hz=20)
    return home, other, space, riders, sent


def _over_the_bus(msg: Stage) -> Stage:
    decoded = codec.decode(codec.encode(msg))
    assert isinstance(decoded, Stage)
    return decoded


def test_what_the_home_stages_reaches_the_other_process_and_later_replicas() -> None:
    home, other, space, _, sent = _pair()
    bo = space.add(Avatar(7, "Bo", "citizen", 0, "round"), 1.0, 1.0, 0.0, 0.0)
    home.set_layer(7, 2)
    home.set_audience(7, True)
    home.set_spotlight(9, True)  # a host not yet in view over there
    home.after_tick(1)
    assert len(sent) == 1 and not sent[0].snapshot
    other.receive(_over_the_bus(sent[0]))
    assert (int(space.layer[bo.slot]), bool(space.audience[bo.slot])) == (2, True)
    host = space.add(Avatar(9, "Hana", "host", 0, "round", origin=1), 2.0, 2.0, 0.0, 0.0)
    assert not space.spotlight[host.slot]
    other.added(host)  # the replica comes into view: staged as it arrives
    assert space.spotlight[host.slot]

    home.after_tick(2)  # nothing changed, nothing rides: no message
    assert len(sent) == 1

    # Bo leaves the event; that message is lost. The next snapshot heals it.
    home.set_layer(7, 0)
    home.set_audience(7, False)
    home.after_tick(3)
    assert sent[-1].staged == ((7, Staged()),)
    home.after_tick(20)
    snapshot = sent[-1]
    assert snapshot.snapshot and dict(snapshot.staged) == {9: Staged(spotlight=True)}
    other.receive(_over_the_bus(snapshot))
    assert (int(space.layer[bo.slot]), bool(space.audience[bo.slot])) == (0, False)
    assert other.staged == {9: Staged(spotlight=True)}


def test_a_snapshot_stages_a_slot_made_since_even_when_nothing_changed() -> None:
    home, other, space, _, sent = _pair()
    home.set_audience(7, True)
    home.after_tick(1)
    other.receive(_over_the_bus(sent[-1]))
    bo = space.add(Avatar(7, "Bo", "citizen", 0, "round"), 1.0, 1.0, 0.0, 0.0)  # resumed
    assert not space.audience[bo.slot]
    home.after_tick(20)
    other.receive(_over_the_bus(sent[-1]))
    assert space.audience[bo.slot]


def test_rider_payloads_go_out_one_per_tick_and_never_pile_up() -> None:
    home, other, _, riders, sent = _pair()
    home.add_source(lambda: {"ev:1": b"tick-payload"})
    home_riders = Riders()
    home_riders.add_source(home._collect)  # what the home's tick collects
    assert home_riders.collect() == {"ev:1": b"tick-payload"}
    home.after_tick(1)
    assert sent[-1].riders == (("ev:1", b"tick-payload"),)

    for i in range(RIDER_QUEUE + 3):  # this process's ticks fell behind the home's
        other.receive(Stage("home", False, (), (("ev:1", b"p%d" % i),)))
    heard = [riders.collect().get("ev:1") for _ in range(RIDER_QUEUE + 1)]
    assert heard[:RIDER_QUEUE] == [b"p%d" % i for i in range(3, RIDER_QUEUE + 3)]
    assert heard[RIDER_QUEUE] is None  # one per tick, and nothing once they are out


def test_a_new_home_unstages_everyone_the_old_one_had_staged() -> None:
    _, other, space, _, _ = _pair()
    bo = space.add(Avatar(7, "Bo", "citizen", 0, "round"), 1.0, 1.0, 0.0, 0.0)
    other.receive(Stage("home", False, ((7, Staged(1, True, False, "ev:1")),)))
    assert space.channel[bo.slot] == "ev:1"
    other.reset()  # this process takes over the home
    assert space.channel[bo.slot] is None and not space.audience[bo.slot]
    assert other.staged == {}
