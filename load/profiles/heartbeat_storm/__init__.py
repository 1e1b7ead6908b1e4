"""heartbeat-storm: every user holds a lease and heartbeats it.

First half of the run every heartbeat lands on the same instants of the
shared clock, second half each client beats at its own phase (see
`locustfile.py`); locust and the report list them as "heartbeat (sync)" and
"heartbeat (jitter)", and the summary sets their latencies side by side
(`analysis.py`).
"""

from __future__ import annotations

from typing import Any

from leasecheck.load.analysis.observation import Observation
from leasecheck.load.profiles.params import heartbeat_fraction, timeout_minutes
from leasecheck.load.profiles.profile import LicenseNeed, Profile

from .analysis import sync_against_jitter


class HeartbeatStorm(Profile):
    name = "heartbeat-storm"
    help = "every lease heartbeating, in sync then jittered"
    summary = "every user holds a lease and heartbeats: first half in sync, second half jittered"
    measures = "heartbeat latency when all clients beat at the same instant versus spread out"
    default_users = 200
    default_duration = 30.0
    labels = ("heartbeat (sync)", "heartbeat (jitter)")  # see locustfile.py
    params = (timeout_minutes(1), heartbeat_fraction())

    def licenses(self, users: int, params: dict[str, Any], minute_seconds: float) -> list[LicenseNeed]:
        return [LicenseNeed("pool", users, int(params["timeout_minutes"]))]

    def shortest_run(self, params: dict[str, Any], lease_seconds: float) -> float:
        return 4 * lease_seconds * float(params["heartbeat_fraction"])  # two beats in each half

    def details(self, seen: Observation) -> dict[str, Any]:
        return sync_against_jitter(seen.window)


PROFILE = HeartbeatStorm()
