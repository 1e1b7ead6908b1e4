"""Status faults: leases for a license that may not hold any (STAT-*)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from leasecheck.reference_server.errors import LICENSE_INACTIVE, ApiError
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import License, Policy

from . import bug


class _StatusForgotten(Runtime):
    """The status check with one status left out (`forgotten`), read as active."""

    forgotten = ""

    def check_license_state(self, lic: License, now: float) -> None:
        if lic.status == self.forgotten:
            lic = replace(lic, status="active")  # BUG: this status is not checked
        super().check_license_state(lic, now)


@bug("suspended-still-checks-out", "STAT-01")
class SuspensionIgnored(_StatusForgotten):
    """The status check refuses revoked and expired licenses but forgets suspended ones."""

    forgotten = "suspended"


@bug("revoked-still-checks-out", "STAT-03")
class RevocationIgnored(_StatusForgotten):
    """Revocation is recorded but the status check only knows suspended: a revoked license keeps checking out seats
    until someone deletes it.
    """

    forgotten = "revoked"


@bug("absent-seats-default-one", "STAT-05")
class AbsentSeatsDefaultOne(Runtime):
    """A policy created without max_floating_users gets the column's default of 1, so every license under a
    non-floating policy can check out a floating seat.
    """

    def seats(self, policy: Policy) -> int:
        if policy.max_floating_users is None:
            return 1  # BUG: absent is not "one seat"
        return super().seats(policy)


@bug("refusal-cached-past-reinstate", "STAT-02")
class RefusalCached(Runtime):
    """A license refused for its state is remembered in a cache that reinstating never clears, so a reinstated
    customer stays locked out until the server restarts.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._refused: set[str] = set()

    def check_license_state(self, lic: License, now: float) -> None:
        if lic.id in self._refused:  # BUG: never invalidated when the license is reinstated
            raise ApiError(403, LICENSE_INACTIVE, "the license is suspended")
        try:
            super().check_license_state(lic, now)
        except ApiError:
            self._refused.add(lic.id)
            raise
