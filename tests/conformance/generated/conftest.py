"""Builders for the generated run's records, as the engine makes them, without a server.

An observation is a core `Exchange` (request headers written as the suite's
client writes them, the client's operation label) plus the case's phase and
mode; a run numbers its observations in order, as `recorded.collect` does.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from leasecheck.conformance.generated.config import fresh_key
from leasecheck.conformance.generated.observation import Observation
from leasecheck.conformance.generated.operations import CHECKIN_OP, CHECKOUT_OP, HEARTBEAT_OP
from leasecheck.conformance.generated.recorded import NO_ANSWER
from leasecheck.conformance.generated.run import GeneratedRun
from leasecheck.conformance.target import LicenseFixture
from leasecheck.core.client import CHECKIN, CHECKOUT, HEARTBEAT, Exchange

KEY = "lk_test_key_0123456789"
AUTH = f"License {KEY}"
PATH = {"checkout": CHECKOUT, "heartbeat": HEARTBEAT, "checkin": CHECKIN}
OPERATION_ID = {"checkout": CHECKOUT_OP, "heartbeat": HEARTBEAT_OP, "checkin": CHECKIN_OP}
META = {"request_id": "r", "timestamp": "2026-01-01T00:00:00Z"}


def license_fixture(seats: int = 200) -> LicenseFixture:
    return LicenseFixture(
        license_id="lic_1", license_key=KEY, seats=seats, timeout_minutes=5, license_type="subscription", name="t"
    )


def observation(
    label: str,
    status: int | None,
    body: object = None,
    *,
    data: dict[str, Any] | None = None,
    auth: str | None = AUTH,
    key: str | None = "auto",
    raw: bytes | None = None,
    mode: str = "positive",
    probe: bool = False,
    at: tuple[float, float] = (0.0, 0.0),
) -> Observation:
    """A runtime request (`label`: checkout, heartbeat, checkin) and its answer: `data` for a
    success envelope, else an error envelope; `status` None for no answer. `at`: when it was
    sent and when its answer arrived (the same moment for all by default: none overlap)."""
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = auth
    if label != "heartbeat" and key is not None:
        headers["Idempotency-Key"] = fresh_key("") if key == "auto" else key
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    answer = (
        {"data": data, "meta": META} if data is not None else {"error": {"code": "X", "message": "m"}, "meta": META}
    )
    exchange = Exchange(
        method="POST",
        path=PATH[label],
        request_headers=headers,
        request_body=payload,
        sent_at=at[0],
        received_at=at[1],
        status=status,
        response_headers={"content-type": "application/json"} if status is not None else {},
        response_body=json.dumps(answer).encode() if status is not None else b"",
        operation=label,
        error=None if status is not None else NO_ANSWER,
        idempotency_key=headers.get("Idempotency-Key"),
    )
    return Observation(exchange=exchange, operation=OPERATION_ID[label], phase="fuzzing", mode=mode, probe=probe)


def run_of(*observations: Observation, provisioned: bool = True, seats: int = 200) -> GeneratedRun:
    """A run that saw `observations` in this order (numbered, each its own case)."""
    numbered = [replace(o, seq=i, case_id=f"case-{i}") for i, o in enumerate(observations)]
    return GeneratedRun(fixture=license_fixture(seats), provisioned=provisioned, observations=numbered)


def lease(token: str | None = None, expires: str = "2026-01-01T00:00:10.000Z", lid: str = "lic_1") -> dict[str, Any]:
    d: dict[str, Any] = {
        "license_id": lid,
        "status": "active",
        "license_type": "subscription",
        "entitlement_version": 1,
        "issued_at": "2026-01-01T00:00:00.000Z",
        "device_id": "dev_1",
        "lease_expires_at": expires,
    }
    if token:
        d["lease_token"] = token
    return d


def requirements(run: GeneratedRun) -> set[str]:
    return {f.requirement for f in run.findings}
