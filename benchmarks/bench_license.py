"""The one license a benchmark provisions on a bundled server it started (not a benchmark itself)."""

from __future__ import annotations

import uuid

from leasecheck.core.client import Http, Management
from leasecheck.core.server_process import ReferenceServer
from leasecheck.load.profiles.profile import LicenseNeed
from leasecheck.load.provision import provision


def bench_license(srv: ReferenceServer, seats: int) -> str:
    """A license key with `seats` floating seats and a 10-minute lease timeout
    (made the way `leasecheck load` provisions its licenses)."""
    assert srv.base_url is not None
    mgmt = Management(Http(srv.base_url), srv.management_token)
    (grant,) = provision(mgmt, "bench", [LicenseNeed("bench", seats, 10)], uuid.uuid4().hex[:10])
    return grant.key
