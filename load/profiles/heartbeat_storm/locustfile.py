"""heartbeat-storm: every user holds a lease and heartbeats it.

First half of the run: all heartbeats at the same instants of the run's
shared clock (every `heartbeat_fraction` of the lease). Second half: the
same rate, each client at its own random phase. locust and the report list
them as "heartbeat (sync)" and "heartbeat (jitter)", so the cost of
synchronised clients is read straight off the two latency rows.
"""

from __future__ import annotations

import time

from locust import task

from leasecheck.load.config import LicenseGrant
from leasecheck.load.profiles.heartbeat_storm import PROFILE
from leasecheck.load.runtime import hooks
from leasecheck.load.runtime.users import Lease, LeaseUser, lease_refused

hooks.use_profile(PROFILE)


class Heartbeater(LeaseUser):
    @task
    def storm(self) -> None:
        grant = self.config.licenses[0]
        interval = self.lease_seconds(grant) * float(self.config.params["heartbeat_fraction"])
        end = self.plan.end()
        half = self.plan.epoch + self.config.duration / 2
        phase = self.rng.uniform(0, interval)
        self.sleep_until(self.plan.epoch)  # a lease taken earlier could expire before the first grid beat
        lease = self.acquire(grant)
        while lease is not None:
            now = time.time()
            if now < half:
                label, beat = "heartbeat (sync)", self.grid_after(now, interval)
            else:
                label, beat = "heartbeat (jitter)", self.grid_after(now - phase, interval) + phase
            if beat >= end:
                break  # check in now: at `end` every client would check in at once
            self.sleep_until(beat)
            if lease_refused(self.heartbeat(lease, label=label)):
                lease = self.acquire(grant)
        if lease is not None:
            self.checkin(lease)
        self.idle()

    def acquire(self, grant: LicenseGrant) -> Lease | None:
        while time.time() < self.plan.end():
            _, lease = self.checkout(grant)
            if lease is not None:
                return lease
            self.sleep_until(time.time() + self.rng.uniform(0.05, 0.2))
        return None
