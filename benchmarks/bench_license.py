"""The one license a benchmark provisions on a bundled server it started (not a benchmark itself)."""

from __future__ import annotations

import time

from leasecheck.core.client import Http, Management
from leasecheck.core.server_process import ReferenceServer


def bench_license(srv: ReferenceServer, seats: int) -> str:
    """A license key with `seats` floating seats and a 10-minute lease timeout."""
    assert srv.base_url is not None
    mgmt = Management(Http(srv.base_url), srv.management_token)
    prod = mgmt.create_product("bench", f"bench-{time.time_ns()}")
    pol = mgmt.create_policy(
        prod["id"],
        name="b",
        code="b",
        license_type="subscription",
        max_floating_users=seats,
        floating_timeout_minutes=10,
    )
    _, key = mgmt.create_license(prod["id"], pol["id"])
    return key
