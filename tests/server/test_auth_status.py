"""Credentials, isolation between licenses, and license status."""

from __future__ import annotations

import json

from leasecheck.core.client import CHECKOUT, LeaseClient, hardware_binding, new_key


def test_runtime_needs_a_known_license_key(provision, http):
    p = provision()
    for client in (LeaseClient(http, None), LeaseClient(http, "lk_not-a-real-key")):
        for ex in (client.checkout(), client.heartbeat("llt_x"), client.checkin("llt_x")):
            assert (ex.status, ex.error_code) == (401, "UNAUTHORIZED"), ex.describe()
    bearer = http.request(
        "POST",
        CHECKOUT,
        json_body=hardware_binding(),
        headers={"Authorization": f"Bearer {p.license_key}", "Idempotency-Key": new_key()},
    )
    assert (bearer.status, bearer.error_code) == (401, "UNAUTHORIZED")


def test_auth_comes_before_idempotency(provision, http):
    p = provision()
    key, body = new_key(), hardware_binding()
    assert p.client.checkout(body, idempotency_key=key).status == 200
    stranger = LeaseClient(http, "lk_unknown").checkout(body, idempotency_key=key)
    assert stranger.status == 401 and stranger.lease_token is None


def test_lease_token_is_refused_under_another_license(provision):
    a, b = provision(seats=1), provision(seats=1)
    token = a.client.checkout().lease_token
    for ex in (b.client.heartbeat(token), b.client.checkin(token)):
        assert (ex.status, ex.error_code) == (404, "LEASE_NOT_FOUND")
    assert a.client.heartbeat(token).status == 200  # A's lease is untouched
    assert a.client.checkout().status == 409


def test_unknown_lease_token(provision):
    p = provision()
    for ex in (p.client.heartbeat("llt_never-issued-0000000000"), p.client.checkin("llt_never-issued-0000000000")):
        assert (ex.status, ex.error_code) == (404, "LEASE_NOT_FOUND")


def test_suspended_license_cannot_check_out_and_reinstate_restores(provision, management):
    p = provision(seats=1)
    token = p.client.checkout().lease_token
    suspended = management.set_status(p.license_id, "suspend")
    assert suspended["status"] == "suspended" and suspended["entitlement_version"] == 2
    ex = p.client.checkout()
    assert (ex.status, ex.error_code) == (403, "LICENSE_INACTIVE")
    hb = p.client.heartbeat(token)
    assert (hb.status, hb.error_code) == (403, "LICENSE_INACTIVE")
    ci = p.client.checkin(token)  # 403 is not a checkin answer: a suspended license can still give a seat back
    assert ci.status == 200 and ci.data["status"] == "suspended"
    assert management.set_status(p.license_id, "reinstate")["status"] == "active"
    again = p.client.checkout()
    assert again.status == 200 and again.data["entitlement_version"] == 3


def test_revoked_license_cannot_check_out_or_be_reinstated(provision, management, http):
    p = provision()
    assert management.set_status(p.license_id, "revoke")["status"] == "revoked"
    ex = p.client.checkout()
    assert (ex.status, ex.error_code) == (403, "LICENSE_INACTIVE")
    refused = http.request(
        "POST",
        f"/api/v1/licenses/{p.license_id}/reinstate",
        json_body={},
        headers={"Authorization": f"Bearer {management.token}"},
    )
    assert (refused.status, refused.error_code) == (409, "CONFLICT")


def test_expired_license(provision):
    p = provision(expires_at="2001-01-01T00:00:00Z")
    assert p.license["status"] == "expired"
    ex = p.client.checkout()
    assert (ex.status, ex.error_code) == (403, "LICENSE_EXPIRED")


def test_management_needs_the_bearer_token(server, http):
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"License {server.management_token}"},
        {"Authorization": "Bearer ünïcode".encode("latin-1")},
    ):  # type: ignore[dict-item]
        ex = http.request("POST", "/api/v1/products", json_body={"name": "x", "code": "x"}, headers=headers)
        assert (ex.status, ex.error_code) == (401, "UNAUTHORIZED"), headers


def test_management_conflicts_and_unknown_ids(provision, management, http):
    p = provision()
    auth = {"Authorization": f"Bearer {management.token}"}

    def post(path, body):
        return http.request("POST", path, json_body=body, headers=auth)

    dup = post("/api/v1/products", {"name": "again", "code": p.product["code"]})
    assert (dup.status, dup.error_code) == (409, "CONFLICT")
    policy = {"name": "n", "code": p.policy["code"], "license_type": "trial"}
    dup_policy = post(f"/api/v1/products/{p.product['id']}/policies", policy)
    assert (dup_policy.status, dup_policy.error_code) == (409, "CONFLICT")
    other = provision()
    mismatch = post("/api/v1/licenses", {"product_id": p.product["id"], "policy_id": other.policy["id"]})
    assert (mismatch.status, mismatch.error_code) == (422, "VALIDATION_ERROR")
    for path, body in (
        ("/api/v1/products/prod_nope/policies", {**policy, "code": "fresh"}),
        ("/api/v1/licenses", {"product_id": "prod_nope", "policy_id": p.policy["id"]}),
        ("/api/v1/licenses/lic_nope/suspend", {}),
    ):
        ex = post(path, body)
        assert (ex.status, ex.error_code) == (404, "NOT_FOUND"), path


def test_policy_defaults(provision):
    p = provision(timeout_minutes=None, seats=None)
    assert p.policy["floating_timeout_minutes"] == 10
    assert "max_floating_users" not in p.policy


def _twice(wire, server, path: str, authorizations: list[str], body: dict):
    """One POST on a raw socket with each of `authorizations` as an Authorization field line of its own."""
    payload = json.dumps(body).encode()
    lines = "".join(f"Authorization: {a}\r\n" for a in authorizations)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{lines}Idempotency-Key: {new_key()}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    with wire.connect(server.base_url) as sock:
        sock.sendall(head.encode() + payload)
        return wire.parse(wire.read_to_close(sock, 10.0))


def test_a_repeated_license_authorization_header_is_refused(provision, wire, server):
    # The first field line won and the others were ignored, where a repeated Idempotency-Key is refused.
    p = provision(seats=1)
    for authorizations in ([f"License {p.license_key}"] * 2, [f"License {p.license_key}", "License lk_other"]):
        answer = _twice(wire, server, CHECKOUT, authorizations, hardware_binding())
        assert (answer.status, wire.error_code(answer)) == (401, "UNAUTHORIZED"), answer.raw[:400]
        assert "sent 2 times" in answer.body["error"]["message"]
    assert p.client.checkout().status == 200  # the only seat was still free


def test_a_repeated_management_authorization_header_is_refused(wire, server):
    bearer = f"Bearer {server.management_token}"
    answer = _twice(wire, server, "/api/v1/products", [bearer, bearer], {"name": "n", "code": new_key()})
    assert (answer.status, wire.error_code(answer)) == (401, "UNAUTHORIZED"), answer.raw[:400]
    answer = _twice(wire, server, "/api/v1/products", [bearer], {"name": "n", "code": new_key()})
    assert answer.status == 201, answer.raw[:400]
