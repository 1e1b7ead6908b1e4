"""late's traffic: two sessions (checkout, heartbeat, checkin) at once, twice: a warm-up, then one whose first answer stalls the loop."""

from __future__ import annotations

import time
from collections.abc import Iterator

from locust import task

from leasecheck.load.profiles.late import PROFILE
from leasecheck.load.runtime import hooks
from leasecheck.load.runtime.users import LeaseUser

hooks.use_profile(PROFILE)


def _stall(seconds: float) -> None:
    """Busy, never yielding: the whole generator is stuck, as an overloaded one is."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class LateUser(LeaseUser):
    @task
    def once(self) -> None:
        self.sleep_until(self.plan.epoch)
        self.both(stall=0.0, beat_after=0.0)  # warm-up: two pooled connections, the server's clock
        params = self.config.params
        self.both(stall=float(params["stall_seconds"]), beat_after=float(params["beat_after"]))
        self.idle()

    def both(self, *, stall: float, beat_after: float) -> None:
        """Two sessions at once. Both requests leave before either answer is read; the
        first session to get its answer then stalls the loop, so the second answer waits."""
        turn = iter([stall, 0.0])
        for _ in range(2):
            self.sessions.spawn(self.session, turn, beat_after)
        self.sessions.join()

    def session(self, turn: Iterator[float], beat_after: float) -> None:
        grant = self.config.licenses[0]
        _, lease = self.checkout(grant, fingerprint=self.unique_fingerprint())
        _stall(next(turn))
        if lease is not None:
            self.sleep_until(time.time() + beat_after * self.lease_seconds(grant))
            self.heartbeat(lease)
            self.checkin(lease)
