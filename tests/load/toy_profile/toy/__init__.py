"""toy: the smallest whole load profile, kept outside the tree to show that a
profile is one folder (tests/load/test_discovery.py copies this folder onto
LEASECHECK_PROFILE_PATH and runs it).

Every user checks out, holds for `hold_seconds`, checks in, again and again,
on one license with a seat for each user.
"""

from __future__ import annotations

from typing import Any

from leasecheck.load.analysis.observation import Observation
from leasecheck.load.profiles.params import Param, timeout_minutes
from leasecheck.load.profiles.profile import LicenseNeed, Profile


class Toy(Profile):
    name = "toy"
    help = "check out, hold, check in, again"
    summary = "every user checks out, holds briefly and checks in, in a loop"
    measures = "that a profile in a folder of its own is run and judged"
    default_users = 4
    default_duration = 3.0
    params = (timeout_minutes(1), Param("hold_seconds", 0.2, "how long each lease is held", above=0))

    def licenses(self, users: int, params: dict[str, Any], minute_seconds: float) -> list[LicenseNeed]:
        return [LicenseNeed("toy", users, int(params["timeout_minutes"]))]

    def details(self, seen: Observation) -> dict[str, Any]:
        return {"cycles": sum(1 for op in seen.history if op.kind == "checkin" and op.ok)}


PROFILE = Toy()
