"""thundering-herd: steady use, then every client pauses past the lease
timeout and comes back at the same instant.

Every lease expires during the pause; at the return each client heartbeats
its dead lease (an "expired" answer is the server working) and checks out
again until it holds a seat (see `locustfile.py`). The summary shows the
burst's latency and how long until every client held again (`analysis.py`).
"""

from __future__ import annotations

from typing import Any

from leasecheck.load.analysis.observation import Observation
from leasecheck.load.profiles.params import Param, heartbeat_fraction, timeout_minutes
from leasecheck.load.profiles.profile import LicenseNeed, Profile

from .analysis import recovery


class ThunderingHerd(Profile):
    name = "thundering-herd"
    help = "all pause past the lease timeout, return at once"
    summary = "steady use, then every client pauses past the lease timeout and returns at once"
    measures = "expiry of every lease at once, then the return burst: latency, denials, time until all hold again"
    default_users = 200
    default_duration = 30.0
    labels = ("heartbeat (return)", "checkout (return)")  # see locustfile.py
    params = (
        timeout_minutes(1),
        heartbeat_fraction(),
        Param("steady_leases", 2.0, "steady phase length in lease durations", above=0),
        Param("pause_leases", 1.5, "pause length in lease durations (> 1: every lease expires)", above=1),
    )

    def licenses(self, users: int, params: dict[str, Any], minute_seconds: float) -> list[LicenseNeed]:
        return [LicenseNeed("pool", users, int(params["timeout_minutes"]))]

    def shortest_run(self, params: dict[str, Any], lease_seconds: float) -> float:
        return (float(params["steady_leases"]) + float(params["pause_leases"]) + 1) * lease_seconds

    def details(self, seen: Observation) -> dict[str, Any]:
        return recovery(seen.run, seen.params, seen.lease_seconds, seen.epoch, seen.users)


PROFILE = ThunderingHerd()
