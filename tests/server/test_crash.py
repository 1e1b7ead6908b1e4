"""Acceptance test B: an acknowledged lease survives SIGKILL of every server
process and a restart on the same database."""

from __future__ import annotations

import pytest

from leasecheck.core.client import Http, LeaseClient, Management
from leasecheck.core.server_process import ReferenceServer

pytestmark = pytest.mark.slow


def test_acknowledged_leases_hold_their_seats_across_a_crash():
    # 10 policy minutes of 60 s: expiry cannot interfere with the test.
    with ReferenceServer(minute_seconds=60.0, workers=2) as srv:
        with Http(srv.base_url) as http:
            mgmt = Management(http, srv.management_token)
            prod = mgmt.create_product("Crash", "crash")
            pol = mgmt.create_policy(
                prod["id"],
                name="c",
                code="c",
                license_type="perpetual",
                max_floating_users=4,
                floating_timeout_minutes=10,
            )
            _, key = mgmt.create_license(prod["id"], pol["id"])
            client = LeaseClient(http, key)
            acknowledged = [client.checkout() for _ in range(4)]
            assert [ex.status for ex in acknowledged] == [200] * 4
        port = srv.port

        srv.kill()  # SIGKILL to the supervisor and both workers, no shutdown
        srv.restart()
        assert srv.port == port

        with Http(srv.base_url) as http:
            client = LeaseClient(http, key)
            for ex in acknowledged:
                hb = client.heartbeat(ex.lease_token)
                assert hb.status == 200, hb.describe()
                assert hb.data["device_id"] == ex.data["device_id"]
            over = client.checkout()
            assert (over.status, over.error_code) == (409, "FLOATING_LIMIT_EXCEEDED")
