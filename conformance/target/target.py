"""The server under test, as scenarios see it: `target` in every scenario.

A thin facade over the parts of the target, so that a scenario writes
`target.client(f)`, `target.clock`, `target.license(...)` and does not care
which part does the work:

- transport.py: the connections, their gate (run ending, silence, rate
  cap), 429 back-off, the server clock and the observers of every answer;
- provisioning.py (with inventory.py): licenses for scenarios;
- leases.py: what the run holds, and giving it back at the end;
- races.py: the concurrency the run used, for the report.

The facade adds the one thing that spans them: the envelope inspection of
every answer (signatures are checked against the target's published keys),
whose findings go to `on_finding`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from leasecheck.conformance.settings import Settings
from leasecheck.core import cleanup
from leasecheck.core.cleanup import CleanupReport, cleanup_http
from leasecheck.core.client import Exchange, Http, LeaseClient, Management, Observer, System
from leasecheck.core.envelope import Finding, Inspector
from leasecheck.core.interop import Interop
from leasecheck.core.ledger import Ledger
from leasecheck.core.pacing import Backoff, Pacer, Permit
from leasecheck.core.redact import register_secret
from leasecheck.core.signing import KeyRing
from leasecheck.core.timeutil import ServerClock

from .inventory import Inventory
from .leases import LeaseTracker, give_back
from .provisioning import LicenseFixture, Provisioning
from .races import RaceLog
from .transport import Transport

#: How often `wait_idle` looks again (it waits on a state, not on time).
IDLE_POLL_SECONDS = 0.02


def _no_test() -> str | None:
    return None


class Target:
    """One server under test, shared by all scenarios of a run."""

    def __init__(
        self,
        settings: Settings,
        base_url: str,
        *,
        management_token: str | None,
        on_finding: Callable[[Exchange, list[Finding]], None] | None = None,
        ledger: Ledger | None = None,
        current_test: Callable[[], str | None] = _no_test,
    ) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.management_token = management_token
        register_secret(management_token)
        self.on_finding = on_finding
        self.current_test = current_test  # the node id races are noted under
        self.keyring = KeyRing()
        self.tracker = LeaseTracker(ledger)
        self.races = RaceLog()
        self.transport = Transport(
            self.base_url,
            request_timeout=settings.request_timeout,
            max_rps=settings.max_rps,
            rate_limit_budget=settings.rate_limit_budget,
        )
        #: Every signed answer of the run under each official SDK's byte rule (results.json `interop`).
        self.interop = Interop()
        self._inspector = Inspector(self.keyring, refresh_keys=self.refresh_keys, interop=self.interop)
        self.transport.observers += [self.tracker, self._inspect]
        self.http = self.new_http()
        self.system = System(self.http)
        self.management = Management(self.http, management_token) if management_token else None
        self.provisioning = Provisioning(
            settings.run_id,
            management=self.management,
            inventory=Inventory.load(settings.inventory) if settings.inventory else None,
            tracker=self.tracker,
        )
        #: `target.license(seats=, timeout_minutes=, ...)`: a license of the scenario's own, or NotRunnable.
        self.license = self.provisioning.license
        #: `target.set_status(fixture, "suspend" | "reinstate" | "revoke")` (management only).
        self.set_status = self.provisioning.set_status

    # ------------------------------------------------------------ transport
    @property
    def clock(self) -> ServerClock:
        return self.transport.clock

    @property
    def pacer(self) -> Pacer | None:
        return self.transport.pacer

    @property
    def backoff(self) -> Backoff:
        return self.transport.backoff

    @property
    def throttle_observers(self) -> list[Observer]:
        return self.transport.throttle_observers

    def new_http(self) -> Http:
        """A new connection pool (concurrency scenarios use one per thread)."""
        return self.transport.new_http()

    def client(self, fixture: LicenseFixture | None, http: Http | None = None) -> LeaseClient:
        return LeaseClient(http or self.http, fixture.license_key if fixture else None)

    def raw_client(self, license_key: str | None, http: Http | None = None) -> LeaseClient:
        return LeaseClient(http or self.http, license_key)

    def refresh_keys(self) -> None:
        ex = self.system.public_keys()
        if ex.status == 200 and isinstance(ex.data, list):
            self.keyring.update(k for k in ex.data if isinstance(k, dict))

    def _inspect(self, ex: Exchange) -> None:
        if self.on_finding is not None:
            self.on_finding(ex, self._inspector.inspect(ex))

    # ---------------------------------------------------------------- races
    def note_race(self, simultaneous: int, requests: int) -> None:
        """A concurrency scenario states, before sending, how many simultaneous requests
        it sends; the report lists each scenario once (its widest race, all its requests)."""
        self.races.note(self.current_test(), simultaneous, requests)

    def race_permit(self, requests: int) -> Permit | None:
        """Pay the rate cap for a whole race up front, so that its requests still
        leave together (None without a cap)."""
        return self.transport.race_permit(requests)

    # -------------------------------------------------------------- licenses
    def lease_seconds(self, fixture: LicenseFixture) -> float:
        """How long a lease of this license lasts on this target."""
        return fixture.timeout_minutes * self.settings.minute

    # --------------------------------------------------------------- ending
    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request of this run is in flight and no license is being
        provisioned (what they produced is then tracked), at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.provisioning.busy or self.transport.inflight:
            if time.monotonic() >= deadline:
                return False
            time.sleep(IDLE_POLL_SECONDS)
        return True

    def end_run(self, *, revoke_licenses: bool = True) -> CleanupReport:
        """Undo the run on the target, however it ended: refuse new scenario requests,
        let those in flight land, then give back what the run holds (leases.py) on a
        connection of the cleanup's own, paced by the run's cap, within what is left
        of the run's 429 budget."""
        self.transport.refuse_new_requests()
        s = self.settings
        report = CleanupReport()
        if not self.wait_idle(s.request_timeout + 1.0):
            report.problems.append("requests still in flight when the run ended")
        with cleanup_http(
            self.base_url,
            timeout=s.request_timeout,
            pacer=self.pacer,
            budget=max(30.0, s.rate_limit_budget - self.backoff.waited_seconds),
        ) as http:
            report.merge(
                give_back(
                    self.tracker,
                    http,
                    management_token=self.management_token,
                    revoke_licenses=revoke_licenses,
                    settle=lambda: self.wait_idle(s.request_timeout + 1.0),
                    width=min(cleanup.WIDTH, s.concurrency),
                )
            )
        self.tracker.close_ledger(complete=report.complete)
        return report

    def close(self) -> None:
        self.transport.close()
