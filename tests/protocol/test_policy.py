"""Connection policy, sans I/O: the bucket, floods, the error window, versions, resume."""

from __future__ import annotations

import pytest

from protocol.catalogue import PROTOCOL_VERSION
from protocol.errors import CloseCode, ErrorCode, ProtocolError
from protocol.policy import (
    FORGETS_RESUME,
    Admission,
    ConnectionPolicy,
    TokenBucket,
    check_version,
    closes_after,
    forgets_resume,
)


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    b = TokenBucket(rate=10, burst=5, now=0.0)
    assert [b.take(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert b.dropped_window == 1
    assert not b.take(0.05)  # half a token
    assert b.take(0.1)  # one token after 0.1 s
    assert not b.take(0.1)
    assert sum(b.take(10.0) for _ in range(10)) == 5  # refill is capped at the burst


def test_bucket_counts_drops_per_one_second_window() -> None:
    b = TokenBucket(rate=1, burst=1, now=0.0)
    b.take(0.0)
    for _ in range(3):
        b.take(0.1)
    assert b.dropped_window == 3
    b.take(1.2)  # a new window, and a token is back
    assert b.dropped_window == 0


def test_bucket_notifies_at_most_once_per_second() -> None:
    b = TokenBucket(rate=1, burst=1, now=0.0)
    assert b.should_notify(0.0)
    assert not b.should_notify(0.5)
    assert not b.should_notify(0.999)
    assert b.should_notify(1.0)
    assert not b.should_notify(1.5)


def policy(**kw: float) -> ConnectionPolicy:
    args: dict[str, float] = dict(
        rate_per_s=10, rate_burst=2, flood_drops=5, max_errors=3, error_window_s=10, now=0.0
    )
    args.update(kw)
    return ConnectionPolicy(
        args["rate_per_s"],
        args["rate_burst"],
        int(args["flood_drops"]),
        int(args["max_errors"]),
        args["error_window_s"],
        args["now"],
    )


def test_admit_passes_then_notifies_once_then_drops_then_floods() -> None:
    p = policy()
    verdicts = [p.admit(0.0) for _ in range(9)]
    assert verdicts[:2] == [Admission.PASS] * 2
    assert verdicts[2] is Admission.NOTIFY
    assert verdicts[3:7] == [Admission.DROP] * 4  # drops 2..5: not yet more than 5
    assert verdicts[7:] == [Admission.FLOOD] * 2  # the 6th drop in the second is a flood


def test_admit_notifies_again_after_a_second() -> None:
    p = policy(rate_per_s=1, rate_burst=1, flood_drops=100)
    assert p.admit(0.0) is Admission.PASS
    assert p.admit(0.1) is Admission.NOTIFY
    assert p.admit(0.2) is Admission.DROP
    assert p.admit(0.9) is Admission.DROP
    assert p.admit(1.05) is Admission.PASS  # refilled
    assert p.admit(1.1) is Admission.NOTIFY


def test_a_slow_steady_stream_never_floods() -> None:
    p = policy(rate_per_s=10, rate_burst=1, flood_drops=0)
    assert all(p.admit(i * 0.125) is Admission.PASS for i in range(100))


def test_refused_closes_after_more_than_max_errors_in_the_window() -> None:
    p = policy(max_errors=3, error_window_s=10)
    assert [p.refused(t) for t in (0.0, 1.0, 2.0)] == [None, None, None]
    assert p.refused(3.0) is CloseCode.TOO_MANY_ERRORS


def test_the_error_window_slides() -> None:
    p = policy(max_errors=2, error_window_s=10)
    assert p.refused(0.0) is None
    assert p.refused(5.0) is None
    assert p.refused(10.0) is CloseCode.TOO_MANY_ERRORS  # 0.0 is exactly 10 s old: still in
    q = policy(max_errors=2, error_window_s=10)
    q.refused(0.0)
    q.refused(5.0)
    assert q.refused(10.5) is None  # 0.0 fell out
    assert q.refused(14.0) is CloseCode.TOO_MANY_ERRORS  # 5.0, 10.5, 14.0
    assert q.refused(30.0) is None


def test_check_version() -> None:
    assert PROTOCOL_VERSION == 4
    check_version(4)
    policy().check_version(4)
    with pytest.raises(ProtocolError) as err:
        check_version(2)
    assert err.value.code == ErrorCode.BAD_VERSION
    assert err.value.reason == "This server speaks protocol version 4, not 2."
    assert err.value.ref == "hello"
    with pytest.raises(ProtocolError):
        policy().check_version(3)


def test_closes_after() -> None:
    assert closes_after(ErrorCode.BAD_VERSION) is CloseCode.BAD_VERSION
    assert closes_after(ErrorCode.BAD_TOKEN) is CloseCode.BAD_TOKEN
    assert closes_after(ErrorCode.BAD_CITIZEN_KEY) is None
    assert closes_after(ErrorCode.BAD_FIELD) is None


@pytest.mark.parametrize("code", list(CloseCode))
def test_forgets_resume(code: CloseCode) -> None:
    expected = code.name in {
        "NORMAL",
        "KICKED",
        "BAD_TOKEN",
        "BAD_VERSION",
        "REPLACED",
        "REVOKED",
        "ERASED",
    }
    assert forgets_resume(code) is expected
    assert (code in FORGETS_RESUME) is expected
