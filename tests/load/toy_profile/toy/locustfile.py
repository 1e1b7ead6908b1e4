"""toy's traffic: check out, hold, check in, until the run ends."""

from __future__ import annotations

import time

from locust import task

from leasecheck.load.profiles.toy import PROFILE
from leasecheck.load.runtime import hooks
from leasecheck.load.runtime.users import LeaseUser

hooks.use_profile(PROFILE)


class ToyUser(LeaseUser):
    @task
    def cycle(self) -> None:
        grant, end = self.config.licenses[0], self.plan.end()
        self.sleep_until(self.plan.epoch)
        while time.time() < end:
            _, lease = self.checkout(grant)
            if lease is None:
                self.sleep_until(min(end, time.time() + 0.05))
                continue
            self.sleep_until(min(end, time.time() + float(self.config.params["hold_seconds"])))
            self.checkin(lease)
        self.idle()
