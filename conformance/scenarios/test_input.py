"""input: malformed and invalid requests.

Each request below is wrong in exactly one way (a valid license key, a live
lease_token where one is needed), so the refusal can only be about that one
fault. INPUT-04 (no 5xx for generated input) is judged by the generated-input
engine, not here.
"""

from __future__ import annotations

import pytest

from leasecheck.conformance.needs import License
from leasecheck.core.client import CHECKIN, CHECKOUT, HEARTBEAT, hardware_binding, license_auth, new_key

JSON = {"Content-Type": "application/json"}
INVALID = (400, 422)  # INPUT-02, INPUT-03, INPUT-07
TOO_LARGE = (400, 413)  # INPUT-06
ONE_MIB = 1024 * 1024


#: Every scenario here takes a license of its own through the `held` fixture.
pytestmark = pytest.mark.licenses(License(seats=3, minutes=5))


def _is_error_envelope(ex) -> bool:
    body = ex.json
    err = body.get("error") if isinstance(body, dict) else None
    return isinstance(err, dict) and isinstance(err.get("code"), str) and isinstance(err.get("message"), str)


@pytest.fixture
def held(target, lic):
    """A client of a fresh license and one live lease_token of it, checked in afterwards."""
    f = lic(seats=3, timeout_minutes=5)
    c = target.client(f)
    out = c.checkout(hardware_binding())
    if not out.ok:
        pytest.fail(f"cannot set up a live lease: {out.describe()}")
    yield c, out.lease_token
    c.checkin(out.lease_token)


@pytest.mark.requirement("INPUT-01")
def test_malformed_json(target, held, expect):
    """A body that is not JSON is a client error the client can see and fix
    (400 with an envelope), never a server fault."""
    c, _token = held
    bad = b"{not json"
    for ex in (
        c.checkout(content=bad, headers=JSON),
        c.http.request(
            "POST", HEARTBEAT, content=bad, headers={**JSON, **license_auth(c.license_key)}, operation="heartbeat"
        ),
        c.http.request(
            "POST",
            CHECKIN,
            content=bad,
            headers={**JSON, **license_auth(c.license_key), "Idempotency-Key": new_key()},
            operation="checkin",
        ),
    ):
        expect.status("INPUT-01", ex, [400], f"{ex.operation} with a body that is not JSON")
        expect(
            "INPUT-01",
            _is_error_envelope(ex),
            f"{ex.operation}: the 400 for malformed JSON is not an error envelope",
            ex,
        )


@pytest.mark.requirement("INPUT-02")
def test_unknown_fields(target, held, expect):
    """Unknown fields are not allowed by the contract; silently ignoring them
    hides client typos such as 'fingerprnt'."""
    c, token = held
    cases = [
        ("checkout", c.checkout(hardware_binding(colour="blue"))),
        ("heartbeat", c.heartbeat(None, body={"lease_token": token, "colour": "blue"})),
        ("checkin", c.checkin(None, body={"lease_token": token, "colour": "blue"})),
    ]
    for what, ex in cases:
        expect.status("INPUT-02", ex, INVALID, f"{what} with an unknown field")


@pytest.mark.requirement("INPUT-03")
def test_wrong_types_and_missing_fields(target, held, expect):
    """Wrong types and missing required fields are refused as the client's
    fault (400 or 422), whatever the field."""
    c, token = held
    body = hardware_binding
    cases = [
        ('checkout with is_vm "yes"', c.checkout(body(is_vm="yes"))),
        ('checkout with is_container "no"', c.checkout(body(is_container="no"))),
        ("checkout with fingerprint 123", c.checkout({**body(), "fingerprint": 123})),
        # A null reads as absent or as a wrong type (facts): either way no binding identity is left.
        ("checkout with fingerprint null", c.checkout({**body(), "fingerprint": None})),
        ("checkout with hostname as a list", c.checkout(body(hostname=["h"]))),
        ("checkout with no binding identity", c.checkout({"hostname": "leasecheck-host", "os": "linux"})),
        ("checkout with a JSON array body", c.checkout(content=b"[]", headers={"Content-Type": "application/json"})),
        ("checkout with a JSON string body", c.checkout(content=b'"fp"', headers={"Content-Type": "application/json"})),
        ("heartbeat with lease_token 5", c.heartbeat(None, body={"lease_token": 5})),
        ("heartbeat with lease_token null", c.heartbeat(None, body={"lease_token": None})),
        ("heartbeat without lease_token", c.heartbeat(None, body={})),
        ("heartbeat with a JSON array body", c.heartbeat(None, body=[token])),
        ("checkin with lease_token 5", c.checkin(None, body={"lease_token": 5})),
        ("checkin without lease_token", c.checkin(None, body={})),
        ("checkin with a JSON array body", c.checkin(None, body=[token])),
    ]
    for what, ex in cases:
        expect.status("INPUT-03", ex, INVALID, what)


@pytest.mark.requirement("INPUT-03")
def test_null_in_an_optional_field(target, held, expect):
    """The contract does not say what a JSON null in an optional field means (facts): servers
    with pointer or optional types read it as absent, others refuse it as a wrong type. Both
    pass; what may not happen is anything else (a 5xx, a lease granted without a signature,
    a refusal that is no error envelope)."""
    c, _token = held
    for field in ("app_version", "pod_name", "is_vm"):
        ex = c.checkout(hardware_binding(**{field: None}))
        expect.status("INPUT-03", ex, (200, *INVALID), f"checkout with {field} null")
        if ex.ok:
            expect.note("INPUT-03", f"a null {field} was read as absent (a lease was granted)")
            expect("INPUT-03", bool(ex.lease_token), f"checkout with {field} null: a 200 without a lease_token", ex)
            c.checkin(ex.lease_token)
        elif ex.status in INVALID:
            expect.note("INPUT-03", f"a null {field} was refused as a wrong type ({ex.status})")
            expect("INPUT-03", _is_error_envelope(ex), f"checkout with {field} null: refused without an envelope", ex)


@pytest.mark.requirement("INPUT-05")
def test_wrong_methods(target, held, expect):
    """RFC 9110: a 405 names the methods that would work in Allow; clients and
    tools rely on it."""
    c, _token = held
    for method, path in (
        ("GET", CHECKOUT),
        ("GET", HEARTBEAT),
        ("GET", CHECKIN),
        ("PUT", CHECKOUT),
        ("DELETE", CHECKIN),
    ):
        ex = c.http.request(method, path, headers=license_auth(c.license_key), operation=path.rsplit("/", 1)[-1])
        if expect.status("INPUT-05", ex, [405], f"{method} {path}"):
            allow = ex.header("allow")
            expect("INPUT-05", bool(allow and allow.strip()), f"{method} {path}: 405 without an Allow header", ex)


@pytest.mark.requirement("INPUT-06")
def test_oversized_body(target, held, expect):
    """Bounded input protects the seat store; the refusal is an envelope so the
    client can log a request id. (A 5xx here is also judged by the envelope
    rules on every answer.)"""
    c, _token = held
    ex = c.checkout(hardware_binding(fingerprint="f" * ONE_MIB))
    if expect.status("INPUT-06", ex, TOO_LARGE, "checkout with a 1 MiB fingerprint"):
        expect("INPUT-06", _is_error_envelope(ex), "the refusal of an oversized body is not an error envelope", ex)


@pytest.mark.requirement("INPUT-07")
def test_container_binding_needs_an_identity(target, held, expect):
    """A container binding is identified by its cluster, namespace, pod or
    container id; with none of them there is nothing to hold a seat."""
    c, _token = held
    base = {"hostname": "leasecheck-host", "os": "linux", "is_vm": False, "is_container": True}
    cases = [
        ("container binding without any identity", c.checkout(base)),
        (
            "container binding with only a fingerprint",
            c.checkout({**base, "fingerprint": hardware_binding()["fingerprint"]}),
        ),
    ]
    for what, ex in cases:
        expect.status("INPUT-07", ex, INVALID, what)
