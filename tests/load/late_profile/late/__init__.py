"""late: one lease whose checkout answer the generator reads too late, kept
outside the tree like the toy profile (tests/load/test_expiry.py puts this
folder on LEASECHECK_PROFILE_PATH).

Every user runs two sessions (checkout, heartbeat, checkin) at once, twice:
a warm-up (two pooled connections, and the server's clock; a new process's
first answers can be slow to read), then again with the heartbeat
`beat_after` leases after the checkout, and whichever session reads its
checkout answer first blocks the event loop for `stall_seconds` (a
generator slower than the lease), so the other's answer waits in its socket. With a
stall longer than the lease, the heartbeat and checkin leave after the
acknowledged lease_expires_at; with no stall and a server that ends leases
early, they leave while the lease is live and are refused anyway.
"""

from __future__ import annotations

from typing import Any

from leasecheck.load.profiles.params import Param, timeout_minutes
from leasecheck.load.profiles.profile import LicenseNeed, Profile


class Late(Profile):
    name = "late"
    help = "a checkout whose answer the generator reads after the lease expired"
    summary = "warm up, check out with the generator's loop stalled, heartbeat, check in"
    measures = "that a lease the client let expire is a client-side expiry, and a live one refused is an error"
    default_users = 1
    default_duration = 4.0
    params = (
        timeout_minutes(1),
        Param(
            "stall_seconds", 0.0, "the generator's loop is blocked this long while the checkout's answer waits", least=0
        ),
        Param("beat_after", 0.0, "leases between the checkout's answer and the heartbeat", least=0),
    )

    def licenses(self, users: int, params: dict[str, Any], minute_seconds: float) -> list[LicenseNeed]:
        return [LicenseNeed("late", 4 * users, int(params["timeout_minutes"]))]


PROFILE = Late()
