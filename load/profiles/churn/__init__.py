"""churn: sessions arrive at a set rate; some clients vanish without checking in.

Open loop (see `locustfile.py`): Poisson session arrivals at `rate` per
second whatever the server's speed; a `vanish_share` of the sessions stop
without checking in, so their seats must expire and be reclaimed under load.
The license is sized by Little's law with headroom, and the summary sets the
seats measured in use against it (`littles_law.py`).
"""

from __future__ import annotations

import math
from typing import Any

from leasecheck.load.analysis.observation import Observation
from leasecheck.load.profiles.params import Param, heartbeat_fraction, max_in_flight, timeout_minutes
from leasecheck.load.profiles.profile import LicenseNeed, Profile

from .littles_law import analyse_churn, expected_seats


class Churn(Profile):
    name = "churn"
    help = "sessions at a set rate, some vanish (Little's law)"
    summary = "sessions arrive at a set rate: checkout, heartbeats, checkin; some clients vanish"
    measures = "seat use against Little's law, reclaim of abandoned seats under load, latency at a steady arrival rate"
    default_users = 10
    default_duration = 60.0
    rate_param = "rate"
    params = (
        Param("rate", 10.0, "session arrivals per second (Poisson), split over the users", above=0),
        timeout_minutes(1),
        Param("hold_leases", 2.0, "mean session length in lease durations (exponential)", above=0),
        heartbeat_fraction(),
        Param("vanish_share", 0.2, "share of sessions that stop without checking in", least=0, most=1),
        Param("headroom", 1.3, "seats = Little's-law seats x headroom + 1", above=0),
        max_in_flight(),
    )

    def licenses(self, users: int, params: dict[str, Any], minute_seconds: float) -> list[LicenseNeed]:
        seats = math.ceil(expected_seats(params, minute_seconds) * float(params["headroom"])) + 1
        return [LicenseNeed("churn", seats, int(params["timeout_minutes"]))]

    def details(self, seen: Observation) -> dict[str, Any]:
        occ = next(iter(seen.occupancy.values()))
        return analyse_churn(seen.history, occ, seen.params, seen.minute_seconds, seen.epoch, seen.end)


PROFILE = Churn()
