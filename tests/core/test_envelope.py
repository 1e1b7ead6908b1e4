"""Envelope inspection: what every answer of a run is judged by."""

from __future__ import annotations

import json

from leasecheck.core.client import Exchange
from leasecheck.core.envelope import Inspector
from leasecheck.core.signing import KeyRing


def answer(request_id: str, key: str | None, *, replayed: bool = False, auth: str = "License lk_a") -> Exchange:
    body = {
        "error": {"code": "X", "message": "m"},
        "meta": {"request_id": request_id, "timestamp": "2026-12-01T00:00:00Z"},
    }
    headers = {"content-type": "application/json"}
    if replayed:
        headers["idempotent-replayed"] = "true"
    req = {"Authorization": auth} | ({"Idempotency-Key": key} if key else {})
    return Exchange(
        method="POST",
        path="/api/v1/license/floating/checkout",
        request_headers=req,
        request_body=b"{}",
        sent_at=0.0,
        received_at=0.1,
        status=409,
        response_headers=headers,
        response_body=json.dumps(body).encode(),
        operation="checkout",
        idempotency_key=key,
    )


def env05(inspector: Inspector, ex: Exchange) -> list[bool]:
    return [f.ok for f in inspector.inspect(ex) if f.requirement == "ENV-05"]


def test_a_replay_may_repeat_the_stored_request_id_without_any_header():
    i = Inspector(KeyRing())
    assert env05(i, answer("req-1", "k1")) == [True]
    assert env05(i, answer("req-1", "k1")) == []  # the same key again: stored bytes are honest


def test_a_repeated_request_id_on_a_new_request_is_warned():
    i = Inspector(KeyRing())
    assert env05(i, answer("req-1", "k1")) == [True]
    assert env05(i, answer("req-1", "k2")) == [False]
    assert env05(i, answer("req-1", None)) == [False]


def test_the_same_key_under_another_license_is_a_new_request():
    i = Inspector(KeyRing())
    assert env05(i, answer("req-1", "k1")) == [True]
    assert env05(i, answer("req-1", "k1", auth="License lk_b")) == [False]


def test_the_replayed_header_still_exempts():
    i = Inspector(KeyRing())
    env05(i, answer("req-1", "k1"))
    assert env05(i, answer("req-1", "k9", replayed=True)) == []
