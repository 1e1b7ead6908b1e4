"""thundering-herd: steady use, then every client pauses past the lease
timeout and comes back at the same instant.

Steady phase: hold and heartbeat. At epoch + steady the heartbeats stop
everywhere; every lease expires during the pause. At the return instant each
client heartbeats its dead lease (an "expired" answer is the server working)
and checks out again, retrying denials, until it holds a seat. The judge
reports the burst's latency and how long until every client held again.
"""

from __future__ import annotations

import time

from locust import task

from leasecheck.load.config import LicenseGrant
from leasecheck.load.profiles.thundering_herd import PROFILE
from leasecheck.load.profiles.thundering_herd.analysis import RECOVERED, pause_and_return
from leasecheck.load.runtime import hooks
from leasecheck.load.runtime.users import Lease, LeaseUser

hooks.use_profile(PROFILE)


class HerdMember(LeaseUser):
    @task
    def herd(self) -> None:
        p, grant = self.config.params, self.config.licenses[0]
        lease_s, fraction = self.lease_seconds(grant), float(p["heartbeat_fraction"])
        pause_at, back_at = pause_and_return(p, lease_s, self.plan.epoch)
        end = self.plan.end()
        lease = self.acquire(grant, "checkout", pause_at)
        if lease is not None:
            self.hold(lease, pause_at, fraction=fraction)
        self.sleep_until(back_at)
        if lease is not None:
            self.heartbeat(lease, label="heartbeat (return)")
        lease = self.acquire(grant, "checkout (return)", end)
        if lease is not None:
            self.recorder.mark(RECOVERED, time.time(), user=self.tag)
            if self.hold(lease, end, fraction=fraction):
                self.checkin(lease)
        self.idle()

    def acquire(self, grant: LicenseGrant, label: str, until: float) -> Lease | None:
        while time.time() < until:
            _, lease = self.checkout(grant, label=label)
            if lease is not None:
                return lease
            self.sleep_until(min(until, time.time() + self.rng.uniform(0.01, 0.1)))
        return None
