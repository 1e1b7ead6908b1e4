"""provision: the run's licenses on a real bundled server, and the record of every license
made, so that a run on someone's target can revoke all it left there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leasecheck.core.client import Http, Management
from leasecheck.core.server_process import ReferenceServer
from leasecheck.load.profiles.profile import LicenseNeed
from leasecheck.load.provision import ProvisioningFailed, TargetSetup, provision


@pytest.fixture(scope="module")
def management() -> Iterator[Management]:
    with ReferenceServer(minute_seconds=1.0) as srv, Http(str(srv.base_url)) as http:
        yield Management(http, srv.management_token)


def test_every_license_made_is_recorded_as_it_is_made(management):
    made: list[str] = []
    grants = provision(management, "toy", [LicenseNeed("a", 1, 1), LicenseNeed("b", 2, 1)], "run1", made)
    assert made == [g.license_id for g in grants] and len(made) == 2


def test_licenses_made_before_provisioning_failed_are_recorded(management):
    """The second policy is refused (seats below 0): the first license exists, and the
    caller must know it to revoke it."""
    made: list[str] = []
    with pytest.raises(ProvisioningFailed):
        provision(management, "toy", [LicenseNeed("a", 1, 1), LicenseNeed("b", -1, 1)], "run2", made)
    assert len(made) == 1 and made[0].startswith("lic_")


def test_the_calibration_license_is_recorded(management):
    made: list[str] = []
    latency = TargetSetup(str(management.http.base_url), management, "run3", made).idle_checkout_latency()
    assert latency > 0 and len(made) == 1
