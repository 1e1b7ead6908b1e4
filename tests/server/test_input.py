"""Bad input gets a 4xx error envelope with the spec's code, never a 500."""

from __future__ import annotations

import json

import pytest

from leasecheck.core.client import CHECKIN, CHECKOUT, HEARTBEAT, Exchange, hardware_binding, new_key


def assert_error(ex: Exchange, status: int, code: str) -> None:
    assert (ex.status, ex.error_code) == (status, code), f"{ex.describe()}: {ex.response_body[:300]!r}"
    body = ex.json
    assert set(body) == {"error", "meta"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["meta"]["request_id"].startswith("req_") and body["meta"]["timestamp"]
    assert b"Traceback" not in ex.response_body


@pytest.fixture
def lic(provision):
    return provision(seats=5)


def raw_checkout(lic, content: bytes):
    return lic.client.checkout(content=content, headers={"Content-Type": "application/json"})


def test_unknown_routes(http):
    for method, path in (
        ("GET", "/nope"),
        ("POST", "/api/v1/license/floating/nope"),
        ("GET", "/health/"),
        ("GET", "/api/v1/licenses/lic_x/suspend/extra"),
    ):
        assert_error(http.request(method, path), 404, "NOT_FOUND")


def test_wrong_methods_answer_405_with_allow(http):
    ex = http.request("GET", CHECKOUT)
    assert_error(ex, 405, "METHOD_NOT_ALLOWED")
    assert ex.header("allow") == "POST"
    ex = http.request("DELETE", "/health")
    assert_error(ex, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in ex.header("allow")


def test_oversized_bodies_answer_413(lic, http):
    big = json.dumps({**hardware_binding(), "hostname": "h" * (65 * 1024)}).encode()
    assert_error(raw_checkout(lic, big), 413, "PAYLOAD_TOO_LARGE")
    # Without a Content-Length (chunked), the limit still holds.
    chunks = iter([b"{" + b" " * 40000, b" " * 40000 + b"}"])
    ex = http.request(
        "POST",
        HEARTBEAT,
        content=chunks,  # type: ignore[arg-type]
        headers={"Authorization": f"License {lic.license_key}"},
    )
    assert_error(ex, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "content",
    [
        b'{"fingerprint":',
        b"",
        b"not json",
        b"\xff\xfe{}",
        b'{"fingerprint": NaN}',
        b'{"a": 1e999}',
        b'{"fingerprint": "\\ud800"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 40 + b"1" + b"}" * 40,
        b'\xef\xbb\xbf{"fingerprint": "x"}',
        b"1" * 5000,
    ],
    ids=[
        "truncated",
        "empty",
        "text",
        "utf16",
        "nan",
        "huge-number",
        "lone-surrogate",
        "deep-array",
        "deep-object",
        "bom",
        "huge-int",
    ],
)
def test_malformed_json(lic, content):
    assert_error(raw_checkout(lic, content), 400, "INVALID_JSON")


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        1,
        None,
        True,
        {**hardware_binding(), "extra": 1},
        {"fingerprint": 1},
        {"fingerprint": "fp", "is_vm": "yes"},
        {"fingerprint": "fp", "is_container": 1},
        {"fingerprint": "fp", "hostname": None},
        {"fingerprint": ""},
        {"fingerprint": "f" * 257},
    ],
    ids=[
        "list",
        "string",
        "number",
        "null",
        "bool",
        "unknown-field",
        "int-fingerprint",
        "string-bool",
        "int-bool",
        "null-string",
        "empty-fingerprint",
        "long-fingerprint",
    ],
)
def test_invalid_checkout_bodies_are_400(lic, body):
    assert_error(raw_checkout(lic, json.dumps(body).encode()), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "body",
    [
        {"hostname": "h"},
        {"is_container": True},
        {"is_container": True, "pod_name": ""},
        {},
    ],
    ids=["no-fingerprint", "container-without-identity", "container-empty-identity", "empty"],
)
def test_missing_identity_is_422(lic, body):
    assert_error(lic.client.checkout(body), 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("path", [HEARTBEAT, CHECKIN])
def test_lease_token_bodies(lic, http, path):
    headers = {"Authorization": f"License {lic.license_key}", "Idempotency-Key": new_key()}
    for body, status in (
        ({}, 422),
        ({"lease_token": 5}, 400),
        ({"lease_token": ""}, 400),
        ({"lease_token": "x" * 513}, 400),
        ({"lease_token": "llt_x", "more": 1}, 400),
        ([], 400),
    ):
        assert_error(http.request("POST", path, json_body=body, headers=headers), status, "VALIDATION_ERROR")
    longest = http.request("POST", path, json_body={"lease_token": "x" * 512}, headers=headers)
    assert_error(longest, 404, "LEASE_NOT_FOUND")  # syntactically fine, just unknown


def test_invalid_management_bodies(management, http, provision):
    p = provision()
    auth = {"Authorization": f"Bearer {management.token}"}
    policies = f"/api/v1/products/{p.product['id']}/policies"
    good_policy = {"name": "n", "code": "c-input", "license_type": "trial"}
    cases = [
        ("/api/v1/products", {"name": "n"}, 422),
        ("/api/v1/products", {"name": "n", "code": "c", "x": 1}, 400),
        ("/api/v1/products", {"name": "", "code": "c"}, 400),
        ("/api/v1/products", {"name": "n", "code": "c", "metadata": []}, 400),
        (policies, {**good_policy, "max_floating_users": True}, 400),
        (policies, {**good_policy, "max_floating_users": -1}, 400),
        (policies, {**good_policy, "max_floating_users": 2**64}, 400),
        (policies, {**good_policy, "max_floating_users": 1.5}, 400),
        (policies, {**good_policy, "floating_timeout_minutes": 0}, 400),
        (policies, {**good_policy, "license_type": "floating"}, 400),
        (policies, {**good_policy, "require_heartbeat": "yes"}, 400),
        (policies, {**good_policy, "metadata": {"features": "all"}}, 400),
        (policies, {**good_policy, "metadata": {"features": [{"code": "x"}]}}, 400),
        (policies, {**good_policy, "metadata": {"features": [{"code": "x", "enabled": True, "quota": "1"}]}}, 400),
        (policies, {"name": "n", "code": "c"}, 422),
        ("/api/v1/licenses", {"product_id": p.product["id"]}, 422),
        ("/api/v1/licenses", {"product_id": p.product["id"], "policy_id": p.policy["id"], "expires_at": "soon"}, 400),
        (
            "/api/v1/licenses",
            {"product_id": p.product["id"], "policy_id": p.policy["id"], "starts_at": "0001-01-01T00:00:00+01:00"},
            400,
        ),
        (
            "/api/v1/licenses",
            {"product_id": p.product["id"], "policy_id": p.policy["id"], "expires_at": "2030-13-01T00:00:00Z"},
            400,
        ),
        (f"/api/v1/licenses/{p.license_id}/suspend", {"reason": "x"}, 400),
    ]
    for path, body, status in cases:
        ex = http.request("POST", path, json_body=body, headers=auth)
        assert_error(ex, status, "VALIDATION_ERROR")


def test_edge_values_that_are_valid(management, provision):
    # 3.0 is an integer in JSON Schema's eyes; a huge timeout is clamped to what RFC 3339 can write.
    p = provision(seats=2.0, timeout_minutes=2**62)
    assert p.policy["max_floating_users"] == 2
    out = p.client.checkout()
    assert out.status == 200, out.describe()
    assert out.data["lease_expires_at"] == "9999-12-31T23:59:59.999Z"
    assert p.client.heartbeat(out.lease_token).status == 200
