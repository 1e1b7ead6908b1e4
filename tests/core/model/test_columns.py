"""The history read once, column by column."""

from __future__ import annotations

from leasecheck.core.history import Op
from leasecheck.core.model.columns import read_columns


def test_columns_hold_each_field_in_op_order():
    ops = [
        Op("checkout", "L", 1.0, 1.1, 200, lease="a", expires_at=9.0, server_time=1.05, idempotency_key="k"),
        Op("heartbeat", "M", 2.0, 2.1, 404, lease="a", error_code="LEASE_NOT_FOUND", worker="w"),
    ]
    c = read_columns(ops)
    assert len(c) == 2
    assert c.license == ("L", "M") and c.kind == ("checkout", "heartbeat") and c.status == (200, 404)
    assert c.sent == (1.0, 2.0) and c.expires == (9.0, None) and c.stamp == (1.05, None)
    assert c.key == ("k", None)


def test_no_ops_no_columns():
    assert len(read_columns([])) == 0
