"""Open-loop arrivals: work starts on a schedule, not when the last answer came.

A closed loop (send, wait for the answer, send again) slows down with the
server and so hides its saturation ("coordinated omission"). Here each user
draws Poisson arrival instants at its share of the offered rate and starts
every arrival in its own greenlet at that instant; latency is measured from
the *intended* instant. An arrival that finds `max_in_flight` sessions of
this user still running is not sent and counts as shed (a failure: the
target did not keep up). The recorder also notes arrivals the generator
itself started late; too many of those make the run invalid.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import gevent

from .users import LeaseUser

#: An arrival started later than this after its instant was the generator's fault.
LATE_AFTER = 0.05


def run_open_loop(
    user: LeaseUser,
    rate: Callable[[float], float],
    session: Callable[[float], None],
    *,
    until: float,
    label: str,
    requests_per_arrival: int,
    max_in_flight: int,
) -> None:
    """Start `session(intended_instant)` at Poisson instants until `until`.
    `rate(t)` is the offered rate of the whole run (arrivals/s) at time t."""
    share = 1.0 / max(user.plan.users, 1)
    t = max(time.time(), user.plan.epoch)
    while True:
        r = rate(t) * share
        if r <= 0:
            t += 0.1
        else:
            t += user.rng.expovariate(r)
        if t >= until:
            user.sleep_until(until)
            return
        user.sleep_until(t)
        now = time.time()
        if rate(t) <= 0:
            continue
        user.recorder.schedule(t, now, requests_per_arrival, LATE_AFTER)
        if len(user.sessions) >= max_in_flight:
            user.recorder.shed(label, t)
            continue
        user.sessions.spawn(session, t)


def join_sessions(user: LeaseUser, until: float) -> None:
    """Wait for this user's sessions to end, at the latest at `until`."""
    gevent.joinall(list(user.sessions), timeout=max(0.0, until - time.time()))
