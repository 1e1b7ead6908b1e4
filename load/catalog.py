"""The load profiles: what each measures, its knobs, and the licenses it needs.

This module must not import locust (locust monkey-patches the process it is
imported into): the runner reads the catalogue, the locustfiles in
`profiles/` read their knobs from the `LoadConfig` it produces.

Every time-like knob is in lease units where that is what matters (a
heartbeat at a third of the lease, a pause of 1.5 leases), so the same
profile is right for the bundled server (a policy minute of 1 s) and for a
real target (60 s).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"


@dataclass(frozen=True)
class LicenseNeed:
    group: str
    seats: int
    timeout_minutes: int


@dataclass(frozen=True)
class Profile:
    name: str
    file: str
    summary: str
    measures: str
    default_users: int
    default_duration: float
    defaults: dict[str, Any]
    licenses: Callable[[int, dict[str, Any], float], list[LicenseNeed]]
    open_loop: bool = False
    default_slos: tuple[str, ...] = ()
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return PROFILE_DIR / self.file


#: Knobs several profiles share.
COMMON_NOTES = {
    "timeout_minutes": "the policy's floating_timeout_minutes (a lease lasts this x --minute-seconds)",
    "max_in_flight": "open loop: most sessions in flight at once; arrivals beyond are shed (counted as failures)",
    "heartbeat_fraction": "heartbeat every this share of the lease",
}


def note(profile: Profile, key: str) -> str:
    return next((n for k, n in profile.notes.items() if key in k.split("/")), COMMON_NOTES.get(key, ""))


def group_sizes(users: int, groups: int) -> list[int]:
    """Users are dealt round-robin by global index (see plan.user_index)."""
    return [len(range(g, users, groups)) for g in range(groups)]


def _ratios(params: dict[str, Any]) -> list[int]:
    return [int(r) for r in str(params["ratios"]).split(",") if r.strip()]


def _seat_race(users: int, p: dict[str, Any], minute: float) -> list[LicenseNeed]:
    ratios = _ratios(p)
    return [
        LicenseNeed(f"ratio-{r}", max(1, round(n / r)), int(p["timeout_minutes"]))
        for r, n in zip(ratios, group_sizes(users, len(ratios)), strict=False)
    ]


def churn_expected_seats(p: dict[str, Any], minute: float) -> float:
    """Little's law, L = λW, from the configured knobs (λ: sessions/s)."""
    lease = int(p["timeout_minutes"]) * minute
    hold = float(p["hold_leases"]) * lease
    vanish = float(p["vanish_share"])
    # A vanishing client holds until its last acknowledged heartbeat's lease
    # runs out: on average half a heartbeat interval short of a full lease.
    tail = lease - float(p["heartbeat_fraction"]) * lease / 2
    return float(p["rate"]) * ((1 - vanish) * hold + vanish * (hold + tail))


def _churn(users: int, p: dict[str, Any], minute: float) -> list[LicenseNeed]:
    seats = math.ceil(churn_expected_seats(p, minute) * float(p["headroom"])) + 1
    return [LicenseNeed("churn", seats, int(p["timeout_minutes"]))]


def _one_per_user(users: int, p: dict[str, Any], minute: float) -> list[LicenseNeed]:
    return [LicenseNeed("pool", users, int(p["timeout_minutes"]))]


def _retry(users: int, p: dict[str, Any], minute: float) -> list[LicenseNeed]:
    return [LicenseNeed("retry", max(1, round(users / float(p["users_per_seat"]))), int(p["timeout_minutes"]))]


def _step(users: int, p: dict[str, Any], minute: float) -> list[LicenseNeed]:
    return [LicenseNeed(f"step-{i}", 1_000_000, int(p["timeout_minutes"])) for i in range(int(p["licenses"]))]


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "seat-race",
            "seat_race/locustfile.py",
            "many clients contend for few seats, released together on a shared round clock",
            "seat safety under contention (users:seats of 2, 10 and 100 to 1), denial share, checkout latency in the burst",
            default_users=300,
            default_duration=30.0,
            defaults={
                "ratios": "2,10,100",
                "round_seconds": 1.0,
                "timeout_minutes": 2,
                "hold_min": 0.2,
                "hold_max": 0.8,
                "retry_jitter": 0.05,
            },
            licenses=_seat_race,
            notes={
                "ratios": "users:seats per license, comma separated",
                "round_seconds": "every client not holding a seat checks out at each multiple of this",
                "hold_min/hold_max": "a winner holds for this share of a round, then checks in and checks out again",
                "retry_jitter": "a denied client retries after up to this many seconds until the round ends",
            },
        ),
        Profile(
            "churn",
            "churn/locustfile.py",
            "sessions arrive at a set rate: checkout, heartbeats, checkin; some clients vanish",
            "seat use against Little's law, reclaim of abandoned seats under load, latency at a steady arrival rate",
            default_users=10,
            default_duration=60.0,
            open_loop=True,
            defaults={
                "rate": 10.0,
                "timeout_minutes": 1,
                "hold_leases": 2.0,
                "heartbeat_fraction": 1 / 3,
                "vanish_share": 0.2,
                "headroom": 1.3,
                "max_in_flight": 2000,
            },
            licenses=_churn,
            notes={
                "rate": "session arrivals per second (Poisson), split over the users",
                "hold_leases": "mean session length in lease durations (exponential)",
                "heartbeat_fraction": "heartbeat every this share of the lease",
                "vanish_share": "share of sessions that stop without checking in",
                "headroom": "seats = Little's-law seats x headroom + 1",
            },
        ),
        Profile(
            "heartbeat-storm",
            "heartbeat_storm/locustfile.py",
            "every user holds a lease and heartbeats: first half in sync, second half jittered",
            "heartbeat latency when all clients beat at the same instant versus spread out",
            default_users=200,
            default_duration=30.0,
            defaults={"timeout_minutes": 1, "heartbeat_fraction": 1 / 3},
            licenses=_one_per_user,
            notes={"heartbeat_fraction": "heartbeat every this share of the lease"},
        ),
        Profile(
            "thundering-herd",
            "thundering_herd/locustfile.py",
            "steady use, then every client pauses past the lease timeout and returns at once",
            "expiry of every lease at once, then the return burst: latency, denials, time until all hold again",
            default_users=200,
            default_duration=30.0,
            defaults={"timeout_minutes": 1, "heartbeat_fraction": 1 / 3, "steady_leases": 2.0, "pause_leases": 1.5},
            licenses=_one_per_user,
            notes={
                "steady_leases": "steady phase length in lease durations",
                "pause_leases": "pause length in lease durations (> 1: every lease expires)",
            },
        ),
        Profile(
            "retry-storm",
            "retry_storm/locustfile.py",
            "short client timeouts; every write retried with the same Idempotency-Key",
            "attempts per logical operation, replays, and proof that no retry took a second seat",
            default_users=50,
            default_duration=30.0,
            defaults={
                "timeout_minutes": 1,
                "timeout_ms": 0.0,
                "max_attempts": 6,
                "backoff_ms": 5.0,
                "users_per_seat": 2.0,
                "hold_leases": 0.3,
            },
            licenses=_retry,
            notes={
                "timeout_ms": "client timeout per attempt; 0 = twice the idle median checkout latency, measured before the run",
                "max_attempts": "attempts per logical operation before giving up",
                "backoff_ms": "base of the exponential backoff with full jitter",
                "users_per_seat": "contention: users per seat",
            },
        ),
        Profile(
            "step",
            "step/locustfile.py",
            "open-loop lease cycles (checkout, heartbeat, checkin) at a rate raised step by step",
            "the knee: the highest throughput sustained within the p99 SLO and the error budget",
            default_users=50,
            default_duration=120.0,
            open_loop=True,
            default_slos=("p99<50ms", "errors<0.1%"),
            defaults={
                "start_rate": 10.0,
                "rate_step": 10.0,
                "step_seconds": 10.0,
                "timeout_minutes": 5,
                "licenses": 10,
                "settle_seconds": 1.0,
                "max_in_flight": 2000,
                "confirm_steps": 2,
            },
            licenses=_step,
            notes={
                "start_rate/rate_step": "lease cycles per second in the first step / added per step",
                "step_seconds": "length of one step; duration / step_seconds steps are run",
                "settle_seconds": "the start of each step that is not judged",
                "confirm_steps": "broken steps in a row that end the sweep (1: the first broken step)",
                "licenses": "cycles are spread over this many licenses",
            },
        ),
    )
}


def coerce_params(profile: Profile, raw: dict[str, str]) -> dict[str, Any]:
    """Profile defaults overlaid with --param values, typed like the defaults."""
    out = dict(profile.defaults)
    for key, value in raw.items():
        if key not in profile.defaults:
            known = ", ".join(sorted(profile.defaults))
            raise ValueError(f"profile {profile.name} has no parameter {key!r} (it has: {known})")
        default = profile.defaults[key]
        try:
            out[key] = type(default)(value) if not isinstance(default, str) else value
        except ValueError:
            raise ValueError(f"--param {key}={value!r}: not a valid {type(default).__name__}") from None
    return out
