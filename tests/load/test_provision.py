"""provision: the run's licenses on a real bundled server, and the record of every license
made (in memory, and in the run's ledger on disk), so that a run on someone's target can
revoke all it left there, even after a kill -9."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leasecheck.core.client import Http, Management
from leasecheck.core.ledger import Ledger, read
from leasecheck.core.server_process import ReferenceServer
from leasecheck.load.profiles.profile import LicenseNeed
from leasecheck.load.provision import Made, ProvisioningFailed, TargetSetup, provision


@pytest.fixture(scope="module")
def management() -> Iterator[Management]:
    with ReferenceServer(minute_seconds=1.0) as srv, Http(str(srv.base_url)) as http:
        yield Management(http, srv.management_token)


def _made(tmp_path: Path) -> Made:
    return Made(Ledger.create(tmp_path, "run", {"target": "t", "provisioning": "load toy"}))


def _ledgered(made: Made) -> list[str]:
    assert made.ledger is not None
    return read(made.ledger.path).to_revoke()


def test_every_license_made_is_recorded_as_it_is_made(management, tmp_path):
    made = _made(tmp_path)
    grants = provision(management, "toy", [LicenseNeed("a", 1, 1), LicenseNeed("b", 2, 1)], "run1", made)
    assert made.ids == [g.license_id for g in grants] and len(made.ids) == 2
    assert _ledgered(made) == made.ids
    assert read(made.ledger.path).licenses[made.ids[0]].license_key == grants[0].key  # what cleanup needs


def test_licenses_made_before_provisioning_failed_are_recorded(management, tmp_path):
    """The second policy is refused (seats below 0): the first license exists, and the
    caller must know it to revoke it."""
    made = _made(tmp_path)
    with pytest.raises(ProvisioningFailed):
        provision(management, "toy", [LicenseNeed("a", 1, 1), LicenseNeed("b", -1, 1)], "run2", made)
    assert len(made.ids) == 1 and made.ids[0].startswith("lic_")
    assert _ledgered(made) == made.ids


def test_the_calibration_license_is_recorded(management, tmp_path):
    made = _made(tmp_path)
    latency = TargetSetup(str(management.http.base_url), management, "run3", made).idle_checkout_latency()
    assert latency > 0 and len(made.ids) == 1
    assert _ledgered(made) == made.ids


def test_without_a_ledger_the_licenses_are_kept_in_memory_only(management):
    made = Made()
    provision(management, "toy", [LicenseNeed("a", 1, 1)], "run4", made)
    assert len(made.ids) == 1
