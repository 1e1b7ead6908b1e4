"""Hand-written histories: times on the client clock, stamps on the server's."""

from __future__ import annotations

from leasecheck.core.model import HistoryBuilder
from leasecheck.core.model.builder import T0


def test_expiry_and_stamps_are_placed_on_the_server_clock():
    b = HistoryBuilder(offset=2.0)
    i = b.checkout("a", 1, 1.2, expires=11)
    op = b.ops[i]
    assert (op.sent_at, op.received_at) == (T0 + 1, T0 + 1.2)
    assert op.expires_at == T0 + 13 and op.server_time == T0 + 1.1 + 2.0
    assert op.idempotency_key and op.body_digest == "bind:dev-a" and op.device == "dev-a"


def test_replays_repeat_key_body_and_lease_with_a_new_request_id():
    b = HistoryBuilder()
    g = b.checkout("a", 0, 0.1, expires=10)
    r = b.replay(g, 1, 1.1)
    o, p = b.ops[g], b.ops[r]
    assert (p.idempotency_key, p.body_digest, p.lease, p.expires_at) == (
        o.idempotency_key,
        o.body_digest,
        o.lease,
        o.expires_at,
    )
    assert p.request_id != o.request_id
    refused = b.replay(g, 2, 2.1, status=409)
    assert b.ops[refused].lease is None


def test_unanswered_ops_and_refusal_codes():
    b = HistoryBuilder()
    lost = b.heartbeat("a", 1, None, status=None)
    assert b.ops[lost].status is None and b.ops[lost].received_at == T0 + 3 and b.ops[lost].server_time is None
    assert b.ops[b.heartbeat("a", 2, 2.1, status=404)].error_code == "LEASE_NOT_FOUND"
    assert b.ops[b.heartbeat("a", 3, 3.1, status=403, code=None)].error_code is None
