"""step: raise the arrival rate step by step; find the knee.

Open loop: lease cycles (checkout with a fresh device, heartbeat, checkin)
arrive as a Poisson stream at start_rate, start_rate + rate_step, ... per
second, one step every `step_seconds` of the run's shared clock, spread over
`licenses` licenses with room to spare (no denials: this measures speed).
Latency is measured from each cycle's intended start. The judge evaluates
the SLO per step and reports the knee: the highest throughput sustained
within it.
"""

from __future__ import annotations

import math

from locust import task

from leasecheck.load.profiles.step import PROFILE
from leasecheck.load.runtime import hooks
from leasecheck.load.runtime.arrivals import join_sessions, run_open_loop
from leasecheck.load.runtime.users import LeaseUser

hooks.use_profile(PROFILE)


class StepCycles(LeaseUser):
    def offered(self, t: float) -> float:
        p = self.config.params
        if not self.plan.epoch <= t < self.plan.end():
            return 0.0
        k = math.floor((t - self.plan.epoch) / float(p["step_seconds"]))
        return float(p["start_rate"]) + k * float(p["rate_step"])

    @task
    def cycles(self) -> None:
        end = self.plan.end()
        run_open_loop(
            self,
            self.offered,
            self.cycle,
            until=end,
            label="checkout",
            requests_per_arrival=1,
            max_in_flight=max(1, int(self.config.params["max_in_flight"]) // self.plan.users),
        )
        join_sessions(self, end + 2.0)
        self.idle()

    def cycle(self, intended: float) -> None:
        grant = self.rng.choice(self.config.licenses)
        _, lease = self.checkout(grant, fingerprint=self.unique_fingerprint(), started_at=intended)
        if lease is None:
            return
        self.heartbeat(lease)
        self.checkin(lease)
