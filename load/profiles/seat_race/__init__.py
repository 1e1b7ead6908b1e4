"""seat-race: many clients contend for few seats, released together.

Users are dealt round-robin over one license per ratio (users:seats of 2,
10 and 100 to 1 by default) and race on the run's shared round clock (see
`locustfile.py`). The judge proves no instant had more leases certainly held
than seats; the summary shows, per license, the contenders and what they got
(`analysis.py`).
"""

from __future__ import annotations

from typing import Any

from leasecheck.load.analysis.observation import Observation
from leasecheck.load.profiles.params import Param, ParamError, timeout_minutes
from leasecheck.load.profiles.profile import LicenseNeed, Profile

from .analysis import contention


def group_sizes(users: int, groups: int) -> list[int]:
    """Users are dealt round-robin by run-wide index (see runtime/plan.py, next_user_index)."""
    return [len(range(g, users, groups)) for g in range(groups)]


def ratios(params: dict[str, Any]) -> list[int]:
    return [int(r) for r in str(params["ratios"]).split(",") if r.strip()]


class SeatRace(Profile):
    name = "seat-race"
    help = "users:seats of 2, 10 and 100 to 1, released together"
    summary = "many clients contend for few seats, released together on a shared round clock"
    measures = (
        "seat safety under contention (users:seats of 2, 10 and 100 to 1), denial share, checkout latency in the burst"
    )
    default_users = 300
    default_duration = 30.0
    params = (
        Param("ratios", "2,10,100", "users:seats per license, comma separated"),
        Param("round_seconds", 1.0, "every client not holding a seat checks out at each multiple of this", above=0),
        timeout_minutes(2),
        Param(
            "hold_min", 0.2, "a winner holds for this share of a round, then checks in and checks out again", above=0
        ),
        Param(
            "hold_max", 0.8, "a winner holds for this share of a round, then checks in and checks out again", above=0
        ),
        Param(
            "retry_jitter", 0.05, "a denied client retries after up to this many seconds until the round ends", least=0
        ),
    )

    def licenses(self, users: int, params: dict[str, Any], minute_seconds: float) -> list[LicenseNeed]:
        rs = ratios(params)
        return [
            LicenseNeed(f"ratio-{r}", max(1, round(n / r)), int(params["timeout_minutes"]))
            for r, n in zip(rs, group_sizes(users, len(rs)), strict=False)
        ]

    def shortest_run(self, params: dict[str, Any], lease_seconds: float) -> float:
        return float(params["round_seconds"])

    def check(self, params: dict[str, Any]) -> None:
        try:
            rs = ratios(params)
        except ValueError:
            rs = []
        if not rs or min(rs) < 1:
            raise ParamError(f"--param ratios={params['ratios']!r}: write whole users:seats ratios, e.g. 2,10,100")
        if not 0 < float(params["hold_min"]) <= float(params["hold_max"]):
            raise ParamError("--param hold_min must be more than 0 and at most hold_max")

    def details(self, seen: Observation) -> dict[str, Any]:
        return contention(seen.history, seen.licenses, seen.occupancy)


PROFILE = SeatRace()
