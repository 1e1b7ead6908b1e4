"""The generated-requests judge without a server: configuration, key hook, classification, invariants."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import schemathesis

from leasecheck.conformance.generated import (
    CHECKIN_OP,
    CHECKOUT_OP,
    HEARTBEAT_OP,
    GeneratedRun,
    Observed,
    _has_identity,
    _Judge,
    fresh_idempotency_keys,
    fresh_key,
    schemathesis_config,
)
from leasecheck.conformance.settings import Settings
from leasecheck.conformance.target import LicenseFixture
from leasecheck.specs import OPENAPI_PATH

KEY = "lk_test_key_0123456789"
AUTH = f"License {KEY}"
CHECKOUT, HEARTBEAT, CHECKIN = ("/api/v1/license/floating/" + op for op in ("checkout", "heartbeat", "checkin"))
OPERATION_ID = {"checkout": CHECKOUT_OP, "heartbeat": HEARTBEAT_OP, "checkin": CHECKIN_OP}


def fixture_(seats: int = 200) -> LicenseFixture:
    return LicenseFixture(
        license_id="lic_1", license_key=KEY, seats=seats, timeout_minutes=5, license_type="subscription", name="t"
    )


def target_(management: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        base_url="http://127.0.0.1:9", settings=Settings(), management=object() if management else None
    )


def judge(*observed: Observed, management: bool = True) -> tuple[GeneratedRun, _Judge]:
    run = GeneratedRun(fixture=fixture_(), observed=list(observed))
    for i, o in enumerate(run.observed):
        o.seq, o.timestamp = i, float(i)
    return run, _Judge(run, target_(management), run.fixture)


def obs(
    op: str,
    status: int,
    body: object = None,
    *,
    data: dict | None = None,
    auth: str | None = AUTH,
    key: str | None = "auto",
    raw: bytes | None = None,
    mode: str = "positive",
) -> Observed:
    path = {"checkout": CHECKOUT, "heartbeat": HEARTBEAT, "checkin": CHECKIN}[op]
    headers = {"content-type": "application/json"}
    if auth is not None:
        headers["authorization"] = auth
    if op != "heartbeat" and key is not None:
        headers["idempotency-key"] = fresh_key("") if key == "auto" else key
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    rbody = (
        {"data": data, "meta": {"request_id": "r", "timestamp": "2026-01-01T00:00:00Z"}}
        if data is not None
        else {"error": {"code": "X", "message": "m"}, "meta": {"request_id": "r", "timestamp": "2026-01-01T00:00:00Z"}}
    )
    return Observed(
        seq=0,
        case_id="c",
        phase="fuzzing",
        operation=OPERATION_ID[op],
        method="POST",
        path=path,
        headers=headers,
        body=payload,
        timestamp=0.0,
        status=status,
        response_body=json.dumps(rbody).encode(),
        mode=mode,
    )


def lease(token: str | None = None, expires: str = "2026-01-01T00:00:10.000Z", lid: str = "lic_1") -> dict:
    d = {
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


def test_configuration_is_accepted_by_schemathesis_and_scoped_per_operation():
    cfg = schemathesis.Config.from_dict(schemathesis_config(target_(), fixture_(), seed=7, max_examples=3))
    schema = schemathesis.openapi.from_path(OPENAPI_PATH, config=cfg).exclude(tag="management")
    ops = {schema.get_operation_id(r.ok()): r.ok() for r in schema.get_all_operations() if hasattr(r, "ok")}
    assert set(ops) == {
        "checkoutFloatingLicense",
        "heartbeatFloatingLicense",
        "checkinFloatingLicense",
        "listPublicKeys",
        "health",
        "healthz",
        "readyz",
        "getMetrics",
    }
    checkout = schema.config.checks_config_for(operation=ops["checkoutFloatingLicense"], phase=None)
    assert "422" in checkout.positive_data_acceptance.expected_statuses
    health = schema.config.checks_config_for(operation=ops["health"], phase=None)
    assert "422" not in health.positive_data_acceptance.expected_statuses
    assert cfg.seed == 7


def test_exchanges_carry_the_client_label_not_the_operation_id():
    """The lease tracker and the signature inspection key on leasecheck.core.client's labels."""
    for label in ("checkout", "heartbeat", "checkin"):
        o = obs(label, 200, {"lease_token": "t"})
        assert o.operation == OPERATION_ID[label] and o.exchange().operation == label


def test_fresh_keys_are_unique_and_keep_long_lengths():
    assert len({fresh_key("0") for _ in range(100)}) == 100
    long = "x" * 255
    assert len(fresh_key(long)) == 255 and fresh_key(long) != fresh_key(long)


def test_key_hook_is_registered_only_for_the_run_and_leaves_invalid_keys_alone():
    from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

    schema = object()
    before = len(GLOBAL_HOOK_DISPATCHER.get_all_by_name("before_call"))
    with fresh_idempotency_keys(schema):
        hooks = GLOBAL_HOOK_DISPATCHER.get_all_by_name("before_call")
        assert len(hooks) == before + 1
        hook = hooks[-1]
        for value, replaced in (("0", True), ("", False), ("k" * 256, False)):
            case = SimpleNamespace(operation=SimpleNamespace(schema=schema), headers={"Idempotency-Key": value})
            hook(None, case, {})
            assert (case.headers["Idempotency-Key"] != value) is replaced
        other = SimpleNamespace(operation=SimpleNamespace(schema=object()), headers={"Idempotency-Key": "0"})
        hook(None, other, {})
        assert other.headers["Idempotency-Key"] == "0"
    assert len(GLOBAL_HOOK_DISPATCHER.get_all_by_name("before_call")) == before


@pytest.mark.parametrize(
    "body,identity",
    [
        ({"fingerprint": "fp"}, True),
        ({"fingerprint": " "}, False),
        ({}, False),
        ({"is_container": True, "fingerprint": "fp"}, False),
        ({"is_container": True, "pod_name": "p"}, True),
        ({"is_container": False, "pod_name": "p"}, False),
    ],
)
def test_binding_identity(body, identity):
    assert _has_identity(body) is identity


@pytest.mark.parametrize(
    "o,first",
    [
        (obs("checkout", 200, {"fingerprint": "a"}, auth=None), "AUTH-01"),
        (obs("checkout", 200, {"fingerprint": "a"}, key=None), "IDEM-01"),
        (obs("checkin", 200, {"lease_token": "t"}, key=None), "IDEM-02"),
        (obs("heartbeat", 200, raw=b"{nope"), "INPUT-01"),
        (obs("heartbeat", 200, {"lease_token": 1}), "INPUT-03"),
        (obs("heartbeat", 200, {}), "INPUT-03"),
        (obs("heartbeat", 200, [1]), "INPUT-03"),
        (obs("heartbeat", 200, {"lease_token": "t", "x": 1}), "INPUT-02"),
        (obs("checkout", 200, {"fingerprint": "a" * 300}), None),
        (obs("checkout", 200, {"fingerprint": "a"}, key=""), None),
    ],
)
def test_what_a_request_breaks(o, first):
    _, j = judge(o)
    probs = j.problems(o)
    assert probs and probs[0][0] == first


def test_a_valid_request_breaks_nothing():
    o = obs("checkout", 200, {"fingerprint": "a", "is_vm": False})
    assert judge(o)[1].problems(o) == []


def findings(run: GeneratedRun) -> set[str]:
    return {f.requirement for f in run.findings}


def test_honest_sequence_has_no_findings():
    run, j = judge(
        obs("checkout", 200, {"fingerprint": "a"}, data=lease("llt_A")),
        obs("heartbeat", 200, {"lease_token": "llt_A"}, data=lease(expires="2026-01-01T00:00:11.000Z")),
        obs("heartbeat", 404, {"lease_token": "llt_unknown"}),
        obs("checkin", 200, {"lease_token": "llt_A"}, data=lease(expires="2026-01-01T00:00:01.000Z")),
        obs("heartbeat", 404, {"lease_token": "llt_A"}),
        obs("checkin", 404, {"lease_token": "llt_A"}),
        obs("checkout", 422, {"os": "linux"}),
        obs("checkout", 409, {"fingerprint": "b"}),  # judged below with few seats, not here
    )
    j.invariants()
    j.checkout_answers()
    assert findings(run) == {"LIFE-01"}  # 409 with 1 of 200 seats granted
    assert run.exercised["LIFE-03"] == 1 and run.exercised["CHK-02"] == 1 and run.exercised["TIME-02"] == 1


def test_broken_sequences_are_found():
    run, j = judge(
        obs("checkout", 200, {"fingerprint": "a"}, data=lease("llt_A")),
        obs("heartbeat", 200, {"lease_token": "llt_A"}, data=lease(expires="2026-01-01T00:00:05.000Z")),  # TIME-02
        obs("heartbeat", 200, {"lease_token": "llt_never"}, data=lease()),  # CHK-03
        obs("checkin", 200, {"lease_token": "llt_A"}, data=lease()),
        obs("heartbeat", 200, {"lease_token": "llt_A"}, data=lease(lid="lic_2")),  # LIFE-03, LIFE-05
        obs("checkin", 422, {"lease_token": "llt_A"}),  # CHK-02
        obs("checkout", 422, {"fingerprint": "b"}),  # LIFE-01
    )
    j.invariants()
    j.checkout_answers()
    assert findings(run) == {"TIME-02", "CHK-03", "LIFE-03", "LIFE-05", "CHK-02", "LIFE-01"}


def test_capacity_refusals_are_not_judged_without_a_fresh_license():
    run, j = judge(obs("checkout", 409, {"fingerprint": "b"}), management=False)
    j.checkout_answers()
    assert not run.findings
