"""The executable model: what one honest server answers, for each honest pick."""

from __future__ import annotations

from leasecheck.core.model.spec import Choices, Server


def _server(**picks: object) -> Server:
    s = Server(Choices(**picks))  # type: ignore[arg-type]
    s.create("L", seats=1, timeout=10.0)
    return s


def test_capacity_checkin_and_expiry():
    s = _server()
    a = s.checkout("L", "d1", "k1", "b1", now=0)
    assert a.ok and a.expires == 10.0
    assert s.checkout("L", "d2", "k2", "b2", now=1).status == 409
    assert s.checkin("L", a.lease or "", "k3", "c", now=2).ok
    assert s.checkout("L", "d2", "k4", "b2", now=3).ok
    assert s.heartbeat("L", a.lease or "", now=4).status == 404


def test_replays_and_key_conflicts():
    s = _server(conflict_status=409)
    a = s.checkout("L", "d1", "k1", "b1", now=0)
    assert s.checkout("L", "d1", "k1", "b1", now=1) == a
    assert s.checkout("L", "d1", "k1", "other", now=2).status == 409
    assert s.checkout("M", "d1", "k1", "b1", now=3).status == 401  # no such license: keys are per license


def test_same_device_variants():
    for pick, status, same in (("reuse", 200, True), ("refuse", 422, False), ("new_seat", 409, False)):
        s = _server(same_device=pick)
        a = s.checkout("L", "d1", "k1", "b", now=0)
        again = s.checkout("L", "d1", "k2", "b", now=1)
        assert again.status == status and (again.lease == a.lease) is same


def test_revival_and_suspension_variants():
    s = _server(revive_expired=True)
    a = s.checkout("L", "d1", "k1", "b", now=0)
    assert s.heartbeat("L", a.lease or "", now=12).ok  # revived: the seat was free
    s = _server(suspension_ends_leases=True)
    a = s.checkout("L", "d1", "k1", "b", now=0)
    assert s.set_status("L", "suspend", now=1).ok
    assert s.checkout("L", "d2", "k2", "b2", now=2).status == 403
    assert s.heartbeat("L", a.lease or "", now=3).status == 404


def test_faults_break_the_rules_they_name():
    s = Server(faults=frozenset({"over_grant"}))
    s.create("L", seats=1, timeout=10.0)
    assert s.checkout("L", "d1", "k1", "b", now=0).ok and s.checkout("L", "d2", "k2", "b", now=1).ok
