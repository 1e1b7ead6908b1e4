"""The history checker judges only what is certain: these histories pin that down."""

from __future__ import annotations

from pathlib import Path

from leasecheck.core.history import History, Op, check_idempotency, check_seats


def grant(
    lease: str,
    sent: float,
    recv: float,
    expires: float | None = None,
    key: str | None = None,
    lic: str = "L",
    body: str = "b",
) -> Op:
    return Op(
        kind="checkout",
        license=lic,
        sent_at=sent,
        received_at=recv,
        status=200,
        lease=lease,
        expires_at=expires,
        server_time=(sent + recv) / 2,
        idempotency_key=key,
        body_digest=body,
    )


def checkin(lease: str, sent: float, recv: float, status: int = 200) -> Op:
    return Op(kind="checkin", license="L", sent_at=sent, received_at=recv, status=status, lease=lease)


def test_overlap_beyond_capacity_is_a_violation_with_evidence():
    h = [grant("a", 0, 1), grant("b", 0, 1.5), grant("c", 0.2, 2)]
    v = check_seats(h, {"L": 2})
    assert len(v) == 1
    assert v[0].instant == 2 and {x["lease"] for x in v[0].leases} == {"a", "b", "c"}


def test_checkin_sent_before_the_grant_was_received_is_not_a_violation():
    # b's checkin was sent at 1.0; c was granted (received) at 2.0: a and c only.
    h = [grant("a", 0, 0.5), grant("b", 0, 0.6), checkin("b", 1.0, 3.0), grant("c", 0.9, 2.0)]
    assert check_seats(h, {"L": 2}) == []


def test_heartbeat_racing_an_earlier_sent_checkin_is_not_certainly_held():
    # The checkin of a was sent (2.0) just before a heartbeat of a (2.01) and both
    # answered 200: the server may have processed the heartbeat first, so after the
    # checkin a is not certainly held, and c may take its seat.
    hb = Op(
        kind="heartbeat",
        license="L",
        sent_at=2.01,
        received_at=2.2,
        status=200,
        lease="a",
        expires_at=60.0,
        server_time=2.1,
    )
    h = [grant("a", 0, 0.5, expires=60.0), checkin("a", 2.0, 2.3), hb, grant("c", 2.4, 2.5, expires=60.0)]
    assert check_seats(h, {"L": 1}) == []
    # A heartbeat sent after the checkin was answered is a revival: a is held again.
    hb = Op(
        kind="heartbeat",
        license="L",
        sent_at=2.4,
        received_at=2.45,
        status=200,
        lease="a",
        expires_at=60.0,
        server_time=2.42,
    )
    h = [grant("a", 0, 0.5, expires=60.0), checkin("a", 2.0, 2.3), hb, grant("c", 2.5, 2.6, expires=60.0)]
    assert len(check_seats(h, {"L": 1})) == 1


def test_expiry_ends_certainty_at_lease_expires_at():
    h = [grant("a", 0, 0.1, expires=5.0), grant("b", 6.0, 6.1)]
    assert check_seats(h, {"L": 1}) == []
    h = [grant("a", 0, 0.1, expires=50.0), grant("b", 6.0, 6.1)]
    assert len(check_seats(h, {"L": 1})) == 1


def test_refused_heartbeat_ends_certainty():
    hb = Op(kind="heartbeat", license="L", sent_at=3, received_at=3.1, status=404, lease="a")
    h = [grant("a", 0, 0.1, expires=50.0), hb, grant("b", 4.0, 4.1)]
    assert check_seats(h, {"L": 1}) == []


def test_replays_of_one_lease_count_once():
    h = [grant("a", 0, 1, key="k"), grant("a", 0.5, 1.2, key="k")]
    assert check_seats(h, {"L": 1}) == [] and check_idempotency(h) == []


def test_one_key_two_leases_is_an_idempotency_violation():
    h = [grant("a", 0, 1, key="k"), grant("b", 0.5, 1.2, key="k")]
    v = check_idempotency(h)
    assert len(v) == 1 and "2 different leases" in v[0].message


def test_one_key_two_bodies_is_an_idempotency_violation():
    h = [grant("a", 0, 1, key="k", body="x"), grant("a", 2, 3, key="k", body="y")]
    assert len(check_idempotency(h)) == 1


def test_histories_merge_across_processes(tmp_path: Path):
    h1, h2 = History([grant("a", 0, 1)]), History([grant("b", 0.5, 1.5)])
    h1.dump(tmp_path / "1.jsonl")
    h2.dump(tmp_path / "2.jsonl")
    merged = History.load(tmp_path / "1.jsonl", tmp_path / "2.jsonl")
    assert [o.lease for o in merged] == ["a", "b"]
    assert len(check_seats(merged, {"L": 1})) == 1


def test_held_intervals_follow_the_checker_certainty_rule():
    from leasecheck.core.history import held_intervals

    h = [grant("a", 0, 0.5), grant("b", 0, 0.6, expires=3.0), checkin("a", 1.0, 1.2)]
    got = held_intervals(h, "L", tolerance=0.0)
    assert [(s, e, lease) for s, e, lease in got] == [
        (0.5, 1.0, "a"),
        (0.6, 2.7, "b"),
    ]  # b: expiry less half its round trip
