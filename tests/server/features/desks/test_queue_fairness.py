"""Queue fairness and matching, as property tests on the pure queue."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.features.desks.queue import QueueEvent, ServiceQueue

SERVICES = ["general", "registration", "benefits"]
LANGS = ["sv", "en", "ja"]

arrivals = st.lists(
    st.tuples(st.sampled_from(SERVICES), st.sampled_from(LANGS), st.floats(0, 1000)),
    min_size=1,
    max_size=30,
)
skills = st.sets(st.sampled_from(SERVICES), min_size=1)
langs = st.sets(st.sampled_from(LANGS), min_size=1)


def build(items: list[tuple[str, str, float]]) -> ServiceQueue:
    q = ServiceQueue()
    for i, (service, lang, ts) in enumerate(items):
        q.apply(QueueEvent("arrived", f"T-{i:03d}", ts, service, lang, citizen=i + 1))
    return q


@given(arrivals, skills, langs)
def test_call_next_is_the_longest_waiting_match(
    items: list[tuple[str, str, float]], can: set[str], speak: set[str]
) -> None:
    q = build(items)
    got = q.next_for(can, speak)
    matching = [
        (ts, f"T-{i:03d}") for i, (s, lang, ts) in enumerate(items) if s in can and lang in speak
    ]
    if not matching:
        assert got is None
    else:
        assert got is not None and (got.arrived, got.id) == min(matching)
        assert got.service in can and got.lang in speak


@given(arrivals, skills, langs)
def test_serving_everyone_goes_in_arrival_order(
    items: list[tuple[str, str, float]], can: set[str], speak: set[str]
) -> None:
    q = build(items)
    served = []
    while (t := q.next_for(can, speak)) is not None:
        q.apply(QueueEvent("called", t.id, 2000.0, staff="s", desk="d"))
        q.apply(QueueEvent("started", t.id, 2001.0))
        q.apply(QueueEvent("ended", t.id, 2002.0, outcome="resolved"))
        served.append((t.arrived, t.id))
    assert served == sorted(served)
    assert all(t.status == "waiting" for t in q.tickets.values() if (t.arrived, t.id) not in served)


@given(arrivals, st.integers(0, 29), st.sampled_from(SERVICES))
def test_transfer_keeps_arrival_time(
    items: list[tuple[str, str, float]], pick: int, target: str
) -> None:
    q = build(items)
    ticket = q.tickets[f"T-{pick % len(items):03d}"]
    arrived = ticket.arrived
    q.apply(QueueEvent("called", ticket.id, 5000.0, staff="s", desk="d"))
    q.apply(QueueEvent("transferred", ticket.id, 5001.0, service=target))
    assert ticket.status == "waiting" and ticket.service == target and ticket.arrived == arrived
    ahead = [t for t in q.waiting(target) if (t.arrived, t.id) < (arrived, ticket.id)]
    assert q.position(ticket) == len(ahead) + 1


@given(arrivals)
def test_positions_are_a_permutation_per_service(items: list[tuple[str, str, float]]) -> None:
    q = build(items)
    for service in SERVICES:
        positions = sorted(q.position(t) for t in q.waiting(service))
        assert positions == list(range(1, len(positions) + 1))


def test_estimate_uses_recent_handle_times_and_staff() -> None:
    q = ServiceQueue()
    for i in range(3):
        q.apply(QueueEvent("arrived", f"X-{i}", float(i), "general", "sv", citizen=i + 1))
        q.apply(QueueEvent("called", f"X-{i}", 10.0, staff="s", desk="d"))
        q.apply(QueueEvent("started", f"X-{i}", 10.0))
        q.apply(QueueEvent("ended", f"X-{i}", 10.0 + 120.0, outcome="resolved"))
    assert q.mean_handle_s("general") == 120.0
    for i in range(4):
        q.apply(QueueEvent("arrived", f"A-{i}", 100.0 + i, "general", "sv", citizen=10 + i))
    fourth = q.tickets["A-3"]
    assert q.position(fourth) == 4
    assert q.estimate_wait_s(fourth, servers=1) == 3 * 120 + 60
    assert q.estimate_wait_s(fourth, servers=2) == 1 * 120 + 60
    assert q.estimate_wait_s(fourth, servers=0) is None  # nobody on duty: unknown
    assert q.estimate_wait_s(fourth, servers=2, idle=2) == 60  # two called now, then a round
    assert q.estimate_wait_s(q.tickets["A-0"], servers=1, idle=1) == 0


@given(arrivals)
def test_positions_in_one_pass_match_position(items: list[tuple[str, str, float]]) -> None:
    q = build(items)
    assert q.positions() == {t.id: q.position(t) for t in q.waiting()}
