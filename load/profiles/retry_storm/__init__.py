"""retry-storm: short client timeouts, every write retried with the same key.

Each attempt gets `timeout_ms`, by default twice the idle checkout latency
measured on the target before the run (`prepare`), so under load many
attempts time out while the server still works on them; the client retries
with the same Idempotency-Key and body (see `locustfile.py`). The summary
shows attempts per logical operation and that no retried key took a second
lease (`analysis.py`); the judge proves it for every key.
"""

from __future__ import annotations

from typing import Any

from leasecheck.load.analysis.observation import Observation
from leasecheck.load.profiles.params import Param, timeout_minutes
from leasecheck.load.profiles.profile import LicenseNeed, Profile, Setup

from .analysis import retries


class RetryStorm(Profile):
    name = "retry-storm"
    help = "short timeouts, retries with the same Idempotency-Key"
    summary = "short client timeouts; every write retried with the same Idempotency-Key"
    measures = "attempts per logical operation, replays, and proof that no retry took a second seat"
    default_users = 50
    default_duration = 30.0
    params = (
        timeout_minutes(1),
        Param(
            "timeout_ms",
            0.0,
            "client timeout per attempt; 0 = twice the idle median checkout latency, measured before the run",
            least=0,
        ),
        Param("max_attempts", 6, "attempts per logical operation before giving up", least=1),
        Param("backoff_ms", 5.0, "base of the exponential backoff with full jitter", least=0),
        Param("users_per_seat", 2.0, "contention: users per seat", above=0),
        Param("hold_leases", 0.3, "a granted lease is held (heartbeating) for this many lease durations", least=0),
    )

    def licenses(self, users: int, params: dict[str, Any], minute_seconds: float) -> list[LicenseNeed]:
        seats = max(1, round(users / float(params["users_per_seat"])))
        return [LicenseNeed("retry", seats, int(params["timeout_minutes"]))]

    def prepare(self, params: dict[str, Any], setup: Setup) -> dict[str, Any]:
        if float(params.get("timeout_ms") or 0):
            return params
        # "Short": twice what an idle target needs, so that load pushes many attempts over it.
        timeout_ms = round(max(2.0, 2 * setup.idle_checkout_latency() * 1000), 3)
        return {**params, "timeout_ms": timeout_ms, "timeout_calibrated": True}

    def details(self, seen: Observation) -> dict[str, Any]:
        return retries(seen.run, seen.history, seen.params)


PROFILE = RetryStorm()
