"""Seats: the limit, what checkin frees, and what expiry frees."""

from __future__ import annotations

import time

import pytest

from leasecheck.core.client import hardware_binding


def test_n_seats_give_n_leases_and_the_next_is_409(provision):
    p = provision(seats=3)
    tokens = {p.client.checkout().lease_token for _ in range(3)}
    assert None not in tokens and len(tokens) == 3
    over = p.client.checkout()
    assert (over.status, over.error_code) == (409, "FLOATING_LIMIT_EXCEEDED")
    assert set(over.json) == {"error", "meta"}


def test_checkin_frees_exactly_one_seat_and_a_second_checkin_none(provision):
    p = provision(seats=2)
    t1 = p.client.checkout().lease_token
    p.client.checkout()
    assert p.client.checkin(t1).status == 200
    again = p.client.checkin(t1)  # a new Idempotency-Key
    assert (again.status, again.error_code) == (404, "LEASE_NOT_FOUND")
    assert p.client.checkout().status == 200
    assert p.client.checkout().status == 409


@pytest.mark.parametrize("seats", [0, None])
def test_no_floating_seats_means_no_lease(provision, seats):
    p = provision(seats=seats)
    ex = p.client.checkout()
    assert (ex.status, ex.error_code) == (403, "FLOATING_NOT_ENABLED")


def test_heartbeats_keep_the_seat_past_the_first_expiry(provision, waits):
    p = provision(seats=1, timeout_minutes=2)  # 2 s leases
    out = p.client.checkout()
    first_expiry = expiry = waits.parse_ts(out.data["lease_expires_at"])
    while time.time() < first_expiry + 0.5:
        # Heartbeat half-way through each window, as a careful client does.
        waits.past(expiry - 1.0, margin=0)
        hb = p.client.heartbeat(out.lease_token)
        assert hb.status == 200, hb.describe()
        new_expiry = waits.parse_ts(hb.data["lease_expires_at"])
        assert new_expiry > expiry
        expiry = new_expiry
    assert p.client.checkout().status == 409  # the seat is still held


def test_late_but_valid_heartbeat_succeeds(provision, waits):
    p = provision(seats=1, timeout_minutes=1)
    out = p.client.checkout()
    issued = waits.parse_ts(out.json["meta"]["timestamp"])
    expiry = waits.parse_ts(out.data["lease_expires_at"])
    waits.past(issued + 0.85 * (expiry - issued), margin=0)
    hb = p.client.heartbeat(out.lease_token)
    assert hb.status == 200, hb.describe()


def test_expired_seat_is_reclaimed_and_the_lease_is_never_revived(provision, waits):
    p = provision(seats=1, timeout_minutes=1)
    old = p.client.checkout()
    expiry = waits.parse_ts(old.data["lease_expires_at"])
    assert p.client.checkout().status == 409  # held until it expires
    waits.past(expiry)
    new = waits.until(lambda: (ex := p.client.checkout()).status == 200 and ex, timeout=2)
    assert new.lease_token != old.lease_token
    hb = p.client.heartbeat(old.lease_token)
    assert (hb.status, hb.error_code) == (404, "LEASE_NOT_FOUND")
    ci = p.client.checkin(old.lease_token)
    assert (ci.status, ci.error_code) == (404, "LEASE_NOT_FOUND")
    assert p.client.checkout().status == 409  # the new lease holds the only seat


def test_expired_lease_is_not_revived_even_with_a_free_seat(provision, waits):
    p = provision(seats=2, timeout_minutes=1)
    body = hardware_binding()
    old = p.client.checkout(body)
    waits.past(waits.parse_ts(old.data["lease_expires_at"]))
    hb = p.client.heartbeat(old.lease_token)
    assert (hb.status, hb.error_code) == (404, "LEASE_NOT_FOUND")
    again = p.client.checkout(body)  # the same machine checks out afresh
    assert again.status == 200 and again.lease_token != old.lease_token
    assert again.data["device_id"] == old.data["device_id"]
