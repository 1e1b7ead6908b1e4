"""The one license a benchmark provisions (not a benchmark itself)."""

from __future__ import annotations

import uuid

from leasecheck.core.client import Http, Management
from leasecheck.core.server_process import ReferenceServer
from leasecheck.load.profiles.profile import LicenseNeed
from leasecheck.load.provision import provision


def bench_license(management: Management, seats: int) -> str:
    """A license key with `seats` floating seats and a 10-minute lease timeout,
    made the way `leasecheck load` provisions its licenses."""
    (grant,) = provision(management, "bench", [LicenseNeed("bench", seats, 10)], uuid.uuid4().hex[:10])
    return grant.key


def served_management(srv: ReferenceServer) -> Management:
    """The management API of a bundled server the benchmark started, over loopback."""
    assert srv.base_url is not None
    return Management(Http(srv.base_url), srv.management_token)
