"""churn: sessions arrive at a set rate; some clients vanish without checking in.

Open loop: session arrivals are Poisson at `rate` per second for the whole
run, whatever the server's speed. A session checks out with a fresh device,
heartbeats at a safe fraction of the lease, and after an exponential hold
checks in, or (a `vanish_share` of them) just stops, so that its seat must
expire and be reclaimed under load. The judge compares the seats in use with
Little's law (L = lambda W).
"""

from __future__ import annotations

import time

from locust import task

from leasecheck.load.profiles.churn import PROFILE
from leasecheck.load.runtime import hooks
from leasecheck.load.runtime.arrivals import join_sessions, run_open_loop
from leasecheck.load.runtime.users import LeaseUser

hooks.use_profile(PROFILE)


class ChurnArrivals(LeaseUser):
    @task
    def arrivals(self) -> None:
        p, end = self.config.params, self.plan.end()
        rate = float(p["rate"])
        run_open_loop(
            self,
            lambda t: rate if self.plan.epoch <= t < end else 0.0,
            self.session,
            until=end,
            label="checkout",
            requests_per_arrival=1,
            max_in_flight=max(1, int(p["max_in_flight"]) // self.plan.users),
        )
        join_sessions(self, end + 1.0)
        self.idle()

    def session(self, intended: float) -> None:
        p, end = self.config.params, self.plan.end()
        grant = self.config.licenses[0]
        hold = self.rng.expovariate(1.0 / (float(p["hold_leases"]) * self.lease_seconds(grant)))
        vanish = self.rng.random() < float(p["vanish_share"])
        _, lease = self.checkout(grant, fingerprint=self.unique_fingerprint(), started_at=intended)
        if lease is None:
            return
        alive = self.hold(lease, min(time.time() + hold, end), fraction=float(p["heartbeat_fraction"]))
        if vanish:
            self.recorder.mark("vanished", time.time())
        elif alive:
            self.checkin(lease)
