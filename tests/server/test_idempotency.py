"""Idempotency-Key on checkout and checkin (specs/README.md decisions)."""

from __future__ import annotations

from leasecheck.core.client import OMIT, hardware_binding, new_key
from leasecheck.reference_server.idempotency import Idempotency
from leasecheck.reference_server.store import IdempotencyRecord, Store


def _fill(p, n):
    tokens = []
    for _ in range(n):
        ex = p.client.checkout()
        assert ex.status == 200, ex.describe()
        tokens.append(ex.lease_token)
    return tokens


def test_replay_returns_the_same_lease_and_takes_no_seat(provision):
    p = provision(seats=2)
    key, body = new_key(), hardware_binding()
    first = p.client.checkout(body, idempotency_key=key)
    replay = p.client.checkout(body, idempotency_key=key)
    assert replay.status == 200, replay.describe()
    assert replay.header("Idempotent-Replayed") == "true"
    assert first.header("Idempotent-Replayed") is None
    assert replay.data == first.data  # the stored data ...
    assert replay.json["meta"]["request_id"] != first.json["meta"]["request_id"]  # ... with a fresh meta
    assert p.client.checkout().status == 200  # the second seat is still free
    assert p.client.checkout().status == 409


def test_key_order_and_spacing_do_not_change_the_fingerprint(provision):
    p = provision(seats=1)
    key = new_key()
    body = hardware_binding()
    first = p.client.checkout(body, idempotency_key=key)
    reordered = dict(reversed(list(body.items())))
    again = p.client.checkout(reordered, idempotency_key=key)
    assert again.status == 200 and again.lease_token == first.lease_token


def test_key_reuse_with_another_body_is_refused_and_takes_no_seat(provision):
    p = provision(seats=2)
    key = new_key()
    first = p.client.checkout(hardware_binding(), idempotency_key=key)
    for _ in range(2):  # and keeps being refused
        other = p.client.checkout(hardware_binding(), idempotency_key=key)
        assert (other.status, other.error_code) == (422, "IDEMPOTENCY_CONFLICT")
    assert p.client.heartbeat(first.lease_token).status == 200
    assert p.client.checkout().status == 200  # the second seat was still free
    assert p.client.checkout().status == 409


def test_missing_or_bad_key_is_400_and_takes_no_seat(provision):
    p = provision(seats=1)
    for headers in ({}, {"Idempotency-Key": ""}):
        ex = p.client.checkout(idempotency_key=OMIT, headers=headers)
        assert (ex.status, ex.error_code) == (400, "IDEMPOTENCY_KEY_REQUIRED"), headers
    # A key over the server's limit is a limit of our own, not a missing key (the contract sets none).
    ex = p.client.checkout(idempotency_key="k" * 256)
    assert (ex.status, ex.error_code) == (400, "IDEMPOTENCY_KEY_TOO_LONG")
    token = p.client.checkout().lease_token
    assert token is not None  # the only seat was still free
    ci = p.client.checkin(token, idempotency_key=OMIT)
    assert (ci.status, ci.error_code) == (400, "IDEMPOTENCY_KEY_REQUIRED")
    assert p.client.heartbeat(token).status == 200  # still held


def test_keys_are_scoped_to_their_license(provision):
    a, b = provision(seats=1), provision(seats=1)
    key, body = new_key(), hardware_binding()
    ta = a.client.checkout(body, idempotency_key=key)
    tb = b.client.checkout(body, idempotency_key=key)
    assert tb.status == 200 and tb.header("Idempotent-Replayed") is None
    assert tb.data["license_id"] == b.license_id
    assert tb.lease_token != ta.lease_token


def test_keys_are_scoped_to_their_endpoint(provision):
    p = provision(seats=1)
    key = new_key()
    token = p.client.checkout(idempotency_key=key).lease_token
    ci = p.client.checkin(token, idempotency_key=key)  # same key, other endpoint: a new request
    assert ci.status == 200 and ci.header("Idempotent-Replayed") is None


def test_checkin_replay_frees_nothing_more(provision):
    p = provision(seats=2)
    t1, _ = _fill(p, 2)
    key = new_key()
    assert p.client.checkin(t1, idempotency_key=key).status == 200
    replay = p.client.checkin(t1, idempotency_key=key)
    assert replay.status == 200 and replay.header("Idempotent-Replayed") == "true"
    assert p.client.checkout().status == 200  # the one freed seat
    assert p.client.checkout().status == 409  # and no second one


def test_checkout_replay_after_checkin_takes_no_seat(provision):
    p = provision(seats=1)
    key, body = new_key(), hardware_binding()
    token = p.client.checkout(body, idempotency_key=key).lease_token
    assert p.client.checkin(token).status == 200
    replay = p.client.checkout(body, idempotency_key=key)
    assert replay.status == 200 and replay.lease_token == token
    assert p.client.heartbeat(token).status == 404  # the replayed lease is not live
    assert p.client.checkout().status == 200  # and the seat is still free


def test_errors_are_not_stored(provision, management):
    p = provision(seats=1)
    management.set_status(p.license_id, "suspend")
    key, body = new_key(), hardware_binding()
    assert p.client.checkout(body, idempotency_key=key).status == 403
    management.set_status(p.license_id, "reinstate")
    again = p.client.checkout(body, idempotency_key=key)
    assert again.status == 200 and again.header("Idempotent-Replayed") is None


def test_a_record_past_the_retention_is_forgotten_and_a_fresh_one_kept(tmp_path):
    """The lookup reads once and deletes only a stale record (one statement on the common path)."""
    store = Store(tmp_path / "i.db")
    store.initialise()
    idem = Idempotency(ttl_seconds=60.0, conflict_status=409)
    with store.write() as tx:
        tx.idempotency_put(IdempotencyRecord("lic_1", "checkout", "k", "fp", 200, {"a": 1}, 1000.0))
    with store.write() as tx:
        kept = idem.lookup(tx, "lic_1", "checkout", "k", now=1059.0)
    assert kept is not None and kept.data == {"a": 1}
    with store.write() as tx:
        assert idem.lookup(tx, "lic_1", "checkout", "k", now=1061.0) is None
    with store.read() as tx:
        assert tx.idempotency_record("lic_1", "checkout", "k") is None  # deleted, not just skipped
