"""seat-race: many clients contend for few seats, released together.

Users are dealt round-robin over one license per ratio (users:seats of 2,
10 and 100 to 1 by default). On the run's shared round clock every client
that holds nothing checks out at the same instant; a denied client retries
after a little jitter until the round ends; a winner holds (heartbeating),
checks in and at once checks out again. The judge proves no instant had
more leases certainly held than seats.

Run by `leasecheck load seat-race`, or `locust -f` this file with
LEASECHECK_TARGET and LEASECHECK_MANAGEMENT_TOKEN set.
"""

from __future__ import annotations

import time

from locust import task

from leasecheck.load.profiles.seat_race import PROFILE
from leasecheck.load.runtime import hooks
from leasecheck.load.runtime.users import LeaseUser

hooks.use_profile(PROFILE)


class SeatRacer(LeaseUser):
    @task
    def race(self) -> None:
        p = self.config.params
        grant = self.config.licenses[self.index % len(self.config.licenses)]
        period, end = float(p["round_seconds"]), self.plan.end()
        while True:
            start = self.grid_after(time.time(), period)
            if start >= end:
                return self.idle()
            self.sleep_until(start)
            round_end = min(start + period, end)
            lease = None
            while lease is None and time.time() < round_end:
                _, lease = self.checkout(grant)
                if lease is None:
                    self.sleep_until(min(time.time() + self.rng.uniform(0, float(p["retry_jitter"])), round_end))
            while lease is not None:
                hold = self.rng.uniform(float(p["hold_min"]), float(p["hold_max"])) * period
                if self.hold(lease, min(time.time() + hold, end), fraction=1 / 3):
                    self.checkin(lease)
                lease = None
                if time.time() < round_end:
                    _, lease = self.checkout(grant)  # hold and re-check out
