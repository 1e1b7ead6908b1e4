"""The history checker judges only what is certain: these histories pin that down."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def heartbeat(lease: str, sent: float, recv: float, *, server_time: float, expires: float = 60.0) -> Op:
    return Op(
        kind="heartbeat",
        license="L",
        sent_at=sent,
        received_at=recv,
        status=200,
        lease=lease,
        expires_at=expires,
        server_time=server_time,
    )


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
    hb = heartbeat("a", 2.01, 2.2, server_time=2.1)
    h = [grant("a", 0, 0.5, expires=60.0), checkin("a", 2.0, 2.3), hb, grant("c", 2.4, 2.5, expires=60.0)]
    assert check_seats(h, {"L": 1}) == []
    # A heartbeat sent after the checkin was answered is a revival: a is held again.
    hb = heartbeat("a", 2.4, 2.45, server_time=2.42)
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


# ------------------------------------------------------- the model's recording
def test_old_history_lines_load_with_the_new_fields_defaulted(tmp_path: Path):
    old = (
        '{"kind": "checkout", "license": "L", "sent_at": 1.0, "received_at": 1.1, "status": 200, '
        '"lease": "a", "expires_at": 9.0, "server_time": 1.05, "idempotency_key": "k", '
        '"body_digest": "b", "error_code": null, "worker": "w0"}\n'
    )
    (tmp_path / "old.jsonl").write_text(old)
    (op,) = History.load(tmp_path / "old.jsonl")
    assert op.lease == "a" and op.device is None and op.seats is None and op.request_id is None


def test_new_fields_survive_dump_and_load(tmp_path: Path):
    from leasecheck.core.history import management_op

    h = History([management_op("create_license", "L", 0.0, 0.1, 201, seats=3, timeout=60.0)])
    h.add(Op("checkout", "L", 1, 2, 200, lease="a", device="dev#1", device_id="d", request_id="r", answer_digest="x"))
    h.dump(tmp_path / "h.jsonl")
    back = History.load(tmp_path / "h.jsonl")
    assert [(o.kind, o.seats, o.timeout, o.device, o.request_id) for o in back] == [
        ("create_license", 3, 60.0, None, None),
        ("checkout", None, None, "dev#1", "r"),
    ]


def test_management_ops_are_named():
    import pytest

    from leasecheck.core.history import MANAGEMENT_OPS, management_op

    assert MANAGEMENT_OPS == ("create_license", "suspend", "reinstate", "revoke")
    with pytest.raises(ValueError):
        management_op("delete", "L", 0, 1, 200)


def test_recorded_exchanges_carry_device_request_id_and_answer_digest():
    import json

    from leasecheck.core.client import Exchange
    from leasecheck.core.history import binding_ref, op_from_exchange

    body = json.dumps({"fingerprint": "fp-1", "hostname": "h", "is_container": False}).encode()
    answer = {
        "data": {"lease_token": "llt_secret", "device_id": "dev_9", "lease_expires_at": "2026-01-01T00:00:10.000Z"},
        "meta": {"request_id": "req_1", "timestamp": "2026-01-01T00:00:00.000Z"},
    }
    ex = Exchange(
        method="POST",
        path="/api/v1/license/floating/checkout",
        request_headers={},
        request_body=body,
        sent_at=1.0,
        received_at=1.1,
        status=200,
        response_body=json.dumps(answer).encode(),
        operation="checkout",
        idempotency_key="k",
    )
    op = op_from_exchange(ex, "L")
    assert op.device == binding_ref(body) and op.device and op.device.startswith("dev#")
    assert op.device_id == "dev_9" and op.request_id == "req_1" and op.answer_digest
    assert op.lease and "secret" not in op.lease
    container = json.dumps({"is_container": True, "pod_name": "p"}).encode()
    assert binding_ref(container) != binding_ref(body) and binding_ref(b"not json") is None


def test_a_line_that_is_no_operation_is_named_by_file_and_line(tmp_path: Path):
    """A history cut off in a copy ends mid-line; json's own error said "line 1" of that line."""
    h = History([grant("a", 0, 1), grant("b", 2, 3)])
    h.dump(tmp_path / "h.jsonl")
    whole = (tmp_path / "h.jsonl").read_text()
    for damaged, says in ((whole[:-20], "not an operation (Expecting"), (whole + '{"nope": 1}\n', "nope")):
        (tmp_path / "h.jsonl").write_text(damaged)
        with pytest.raises(ValueError, match=r"h\.jsonl, line [23]: not an operation") as raised:
            History.load(tmp_path / "h.jsonl")
        assert says in str(raised.value)
