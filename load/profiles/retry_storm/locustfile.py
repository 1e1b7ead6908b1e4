"""retry-storm: short client timeouts, every write retried with the same key.

Each attempt gets `timeout_ms` (by default twice the idle checkout latency
measured before the run), so under load many attempts time out while the
server still works on them; the client retries with the same
Idempotency-Key and body (exponential backoff, full jitter), as the
LicenseKit docs advise. The judge reports attempts per logical operation
and proves with the history that no key took a second lease or seat.
"""

from __future__ import annotations

import time
from typing import Any

from locust import task

from leasecheck.load.profiles.retry_storm import PROFILE
from leasecheck.load.runtime import hooks
from leasecheck.load.runtime.users import LeaseUser

hooks.use_profile(PROFILE)


class Retrier(LeaseUser):
    def configure(self, params: dict[str, Any]) -> None:
        timeout = float(params["timeout_ms"]) / 1000 or 10.0
        self.network_timeout = timeout
        self.connection_timeout = max(timeout, 1.0)

    @task
    def storm(self) -> None:
        p, grant, end = self.config.params, self.config.licenses[0], self.plan.end()
        attempts, backoff = int(p["max_attempts"]), float(p["backoff_ms"]) / 1000
        self.sleep_until(self.plan.epoch)
        while time.time() < end:
            _res, lease = self.checkout(grant, max_attempts=attempts, backoff=backoff)
            if lease is None:
                self.sleep_until(min(end, time.time() + self.rng.uniform(0.005, 0.05)))
                continue
            hold_until = min(end, time.time() + float(p["hold_leases"]) * self.lease_seconds(grant))
            if self.hold(lease, hold_until, fraction=1 / 3, max_attempts=attempts, backoff=backoff):
                self.checkin(lease, max_attempts=attempts, backoff=backoff)
        self.idle()
