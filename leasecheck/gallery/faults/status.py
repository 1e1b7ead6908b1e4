"""Status faults: leases for a license that may not hold any (STAT-*)."""

from __future__ import annotations

from dataclasses import replace

from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import License

from . import bug


@bug("suspended-still-checks-out", "STAT-01")
class SuspensionIgnored(Runtime):
    """The status check refuses revoked and expired licenses but forgets suspended ones."""

    def check_license_state(self, lic: License, now: float) -> None:
        if lic.status == "suspended":
            lic = replace(lic, status="active")  # BUG: suspended is not checked
        super().check_license_state(lic, now)
