"""The management subset (reference_server/management.py): what a license may be created with."""

from __future__ import annotations


def test_a_license_that_starts_after_it_expires_is_refused(http, management, provision):
    # It was created, and could never be used.
    p = provision()
    auth = {"Authorization": f"Bearer {management.token}"}
    ids = {"product_id": p.product["id"], "policy_id": p.policy["id"]}
    late = {**ids, "starts_at": "2031-01-01T00:00:00Z", "expires_at": "2030-12-31T23:59:59.999Z"}
    ex = http.request("POST", "/api/v1/licenses", json_body=late, headers=auth)
    assert (ex.status, ex.error_code) == (400, "VALIDATION_ERROR"), ex.describe()
    assert "starts_at" in ex.json["error"]["message"] and "expires_at" in ex.json["error"]["message"]
    # Instants are compared, not texts: 00:30+01:00 is 23:30Z the day before.
    for starts_at in ("2030-01-01T00:30:00+01:00", "2030-01-01T00:00:00Z"):
        fine = {**ids, "starts_at": starts_at, "expires_at": "2030-01-01T00:00:00Z"}
        ex = http.request("POST", "/api/v1/licenses", json_body=fine, headers=auth)
        assert ex.status == 201, ex.describe()
