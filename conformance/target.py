"""The server under test, and how the suite gets licenses on it.

A target is a base URL plus a way to get licenses: a management token (the
suite creates a fresh product, policy and license per scenario, named with
the run id) or an inventory file of pre-made licenses. Every exchange passes
through observers: envelope inspection, the server clock, lease tracking (so
the run checks in what it still holds when it ends).

On a shared server the run is a guest: every request passes a rate cap
(`max_rps`), 429 answers are waited out (`Backoff`), what the run creates
and holds is written to its ledger as it happens, and `end_run` undoes it
all (check in, revoke) however the run ends.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leasecheck.core.cleanup import CleanupReport, check_in, cleanup_http, revoke
from leasecheck.core.client import Exchange, Http, LeaseClient, Management, System, hardware_binding, license_auth
from leasecheck.core.envelope import Finding, Inspector
from leasecheck.core.interrupts import held
from leasecheck.core.ledger import Ledger
from leasecheck.core.pacing import Backoff, Pacer, Permit
from leasecheck.core.redact import register_secret
from leasecheck.core.signing import KeyRing
from leasecheck.core.timeutil import ServerClock

from .settings import Settings


class NotRunnable(Exception):
    """A scenario cannot run on this target; the message says why (reported as not_run)."""


class TargetStoppedAnswering(Exception):
    """Too many requests in a row got no answer: the rest of the run fails fast."""


class RunEnding(Exception):
    """The run is ending (finished, interrupted): scenarios may not send more requests."""


#: Consecutive transport failures after which the target is declared silent.
SILENCE_LIMIT = 6


@dataclass
class LicenseFixture:
    """A license the suite may use, with the policy values it was made with."""

    license_id: str
    license_key: str
    seats: int | None
    timeout_minutes: int
    license_type: str
    name: str  # non-secret name for reports and histories
    features: list[dict[str, Any]] = field(default_factory=list)


class LeaseTracker:
    """Remembers leases granted and not yet ended, per license key; with a
    ledger, also on disk (so a killed run can still be cleaned up)."""

    def __init__(self, ledger: Ledger | None = None) -> None:
        self._held: dict[str, tuple[str, str]] = {}  # token -> (license key, license id)
        self._lock = threading.Lock()
        self.key_to_license: dict[str, str] = {}
        self.ledger = ledger

    def __call__(self, ex: Exchange) -> None:
        auth = ex.request_headers.get("Authorization", "")
        if not auth.startswith("License "):
            return
        key = auth[len("License ") :]
        if ex.operation == "checkout" and ex.ok and ex.lease_token:
            license_id = self.key_to_license.get(key)
            with self._lock:
                self._held[ex.lease_token] = (key, license_id or "?")
            if self.ledger is not None:
                self.ledger.lease(ex.lease_token, license_id, None if license_id else key)
        elif ex.operation == "checkin" and ex.status is not None and ex.status < 500:
            body = _json(ex.request_body)
            token = body.get("lease_token") if isinstance(body, dict) else None
            if ex.ok or ex.status in (404, 409):
                with self._lock:
                    # Only its own license's checkin ends a lease: another license's (AUTH-02
                    # probes) is refused with 404 while the lease lives on.
                    known = token in self._held and self._held[token][0] == key
                    if known:
                        del self._held[token]
                if known and self.ledger is not None:
                    self.ledger.lease_ended(token)

    def held(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return [(tok, key, lic) for tok, (key, lic) in self._held.items()]


def _json(raw: bytes | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
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
        before_request: Callable[[], None] | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.management_token = management_token
        register_secret(management_token)
        self.clock = ServerClock()
        self.keyring = KeyRing()
        self.ledger = ledger
        self.tracker = LeaseTracker(ledger)
        self.on_finding = on_finding
        self._before_request = before_request
        self.pacer = Pacer(settings.max_rps) if settings.max_rps else None
        self.backoff = Backoff(budget_seconds=settings.rate_limit_budget)
        self.throttle_observers: list[Callable[[Exchange], None]] = []  # each 429 waited out
        self.closing = False
        self.current_test: str | None = None  # set by the plugin, for per-scenario notes
        self.races: list[dict[str, Any]] = []
        self._silent_in_a_row = 0
        self._https: list[Http] = []
        self._provisioning = 0  # _create calls under way (their license is not yet in the ledger)
        self._inspector = Inspector(self.keyring, refresh_keys=self.refresh_keys)
        self.http = self.new_http()
        self.system = System(self.http)
        self.management = Management(self.http, management_token) if management_token else None
        self._inventory = _load_inventory(settings.inventory) if settings.inventory else None
        self._inventory_used: set[str] = set()
        self._lock = threading.Lock()
        self.created_licenses: list[str] = []

    # ------------------------------------------------------------- plumbing
    def _gate(self) -> None:
        if self.closing:
            raise RunEnding("the run is ending; no new requests")
        if self._silent_in_a_row >= SILENCE_LIMIT:
            raise TargetStoppedAnswering(
                f"the target did not answer {self._silent_in_a_row} requests in a row; not sending more"
            )
        if self.pacer is not None:
            self.pacer.acquire()
        if self._before_request is not None:
            self._before_request()

    def _observe(self, ex: Exchange) -> None:
        self._silent_in_a_row = self._silent_in_a_row + 1 if ex.error else 0
        if ex.status is not None and isinstance(ex.json, dict):
            meta = ex.json.get("meta")
            if isinstance(meta, dict):
                self.clock.observe(ex.sent_at, ex.received_at, meta.get("timestamp"))
        self.tracker(ex)
        if self.on_finding is not None:
            self.on_finding(ex, self._inspector.inspect(ex))

    def new_http(self) -> Http:
        """A new connection pool (concurrency scenarios use one per thread)."""
        http = Http(
            self.base_url,
            timeout=self.settings.request_timeout,
            observers=[self._observe],
            before_request=self._gate,
            backoff=self.backoff,
        )
        http.throttle_listeners.append(self._throttled)
        self._https.append(http)
        return http

    def _throttled(self, ex: Exchange) -> None:
        for obs in self.throttle_observers:
            obs(ex)

    # ------------------------------------------------------------ concurrency
    def note_race(self, simultaneous: int, requests: int) -> None:
        """A concurrency scenario states, before sending, how many simultaneous requests
        it sends; the report lists each scenario once (its widest race, all its requests)."""
        with self._lock:
            for r in self.races:
                if r["test"] == self.current_test:
                    r["simultaneous"] = max(r["simultaneous"], simultaneous)
                    r["requests"] += requests
                    r["races"] += 1
                    return
            self.races.append(
                {"test": self.current_test, "simultaneous": simultaneous, "requests": requests, "races": 1}
            )

    def race_permit(self, requests: int) -> Permit | None:
        """Pay the rate cap for a whole race up front, so that its requests still
        leave together (None without a cap)."""
        return self.pacer.reserve(requests) if self.pacer is not None else None

    def close(self) -> None:
        for h in self._https:
            h.close()

    def refresh_keys(self) -> None:
        ex = self.system.public_keys()
        if ex.status == 200 and isinstance(ex.data, list):
            self.keyring.update(k for k in ex.data if isinstance(k, dict))

    def client(self, fixture: LicenseFixture | None, http: Http | None = None) -> LeaseClient:
        return LeaseClient(http or self.http, fixture.license_key if fixture else None)

    def raw_client(self, license_key: str | None, http: Http | None = None) -> LeaseClient:
        return LeaseClient(http or self.http, license_key)

    def lease_seconds(self, fixture: LicenseFixture) -> float:
        return fixture.timeout_minutes * self.settings.minute_seconds

    # ---------------------------------------------------------- provisioning
    def license(
        self,
        *,
        seats: int | None = 1,
        timeout_minutes: int = 1,
        license_type: str = "subscription",
        features: list[dict[str, Any]] | None = None,
        purpose: str = "scenario",
    ) -> LicenseFixture:
        """A fresh license with this policy (management), or a matching unused one (inventory)."""
        if self.management is not None:
            return self._create(seats, timeout_minutes, license_type, features, purpose)
        return self._from_inventory(seats, timeout_minutes, license_type, features)

    def _create(
        self,
        seats: int | None,
        timeout_minutes: int,
        license_type: str,
        features: list[dict[str, Any]] | None,
        purpose: str,
    ) -> LicenseFixture:
        with self._lock:
            self._provisioning += 1
        try:
            return self._create_now(seats, timeout_minutes, license_type, features, purpose)
        finally:
            with self._lock:
                self._provisioning -= 1

    def _create_now(
        self,
        seats: int | None,
        timeout_minutes: int,
        license_type: str,
        features: list[dict[str, Any]] | None,
        purpose: str,
    ) -> LicenseFixture:
        assert self.management is not None
        run = self.settings.run_id
        code = f"lc-{run}-{uuid.uuid4().hex[:8]}"
        meta = {"leasecheck_run_id": run, "purpose": purpose}
        product = self.management.create_product(f"leasecheck {run} {purpose}", code, meta)
        pmeta = dict(meta)
        if features:
            pmeta["features"] = features
        policy = self.management.create_policy(
            product["id"],
            name=f"leasecheck {purpose}",
            code=code,
            license_type=license_type,
            max_floating_users=seats,
            floating_timeout_minutes=timeout_minutes,
            metadata=pmeta,
        )
        with held():  # an interrupt waits until the license is recorded (ledger and memory)
            lic, key = self.management.create_license(product["id"], policy["id"], metadata=meta)
            register_secret(key)
            if self.ledger is not None:  # before anyone can use it: a killed run can still revoke it
                self.ledger.license(lic["id"], key, created=True)
            self.tracker.key_to_license[key] = lic["id"]
            with self._lock:
                self.created_licenses.append(lic["id"])
        got_timeout = policy.get("floating_timeout_minutes", timeout_minutes)
        return LicenseFixture(
            license_id=lic["id"],
            license_key=key,
            seats=seats,
            timeout_minutes=int(got_timeout),
            license_type=license_type,
            name=f"{purpose}:{lic['id']}",
            features=features or [],
        )

    def _from_inventory(
        self, seats: int | None, timeout_minutes: int, license_type: str, features: list[dict[str, Any]] | None
    ) -> LicenseFixture:
        assert self._inventory is not None
        if features:
            raise NotRunnable("needs a policy with metadata.features; an inventory cannot provide one")
        with self._lock:
            for entry in self._inventory:
                if entry["license_key"] in self._inventory_used:
                    continue
                if entry.get("max_floating_users") != seats:
                    continue
                if (
                    seats is not None
                    and entry.get("floating_timeout_minutes", timeout_minutes) > max(timeout_minutes, 1) * 5
                ):
                    continue
                self._inventory_used.add(entry["license_key"])
                register_secret(entry["license_key"])
                lic_id = entry.get("license_id", entry.get("name", "inventory"))
                if self.ledger is not None:
                    self.ledger.license(lic_id, entry["license_key"], created=False)
                self.tracker.key_to_license[entry["license_key"]] = lic_id
                return LicenseFixture(
                    license_id=lic_id,
                    license_key=entry["license_key"],
                    seats=seats,
                    timeout_minutes=int(entry.get("floating_timeout_minutes", timeout_minutes)),
                    license_type=entry.get("license_type", license_type),
                    name=f"inventory:{entry.get('name', lic_id)}",
                )
        raise NotRunnable(f"the inventory has no unused license with max_floating_users={seats}")

    def set_status(self, fixture: LicenseFixture, action: str) -> None:
        if self.management is None:
            raise NotRunnable(f"needs management access to {action} a license")
        self.management.set_status(fixture.license_id, action)

    # ---------------------------------------------------------------- ending
    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request of this run is in flight and no license is being
        provisioned (what they produced is then tracked), at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self._provisioning or any(h.inflight for h in list(self._https)):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def end_run(self, *, revoke_licenses: bool = True) -> CleanupReport:
        """Undo the run on the target, however it ended: refuse new scenario
        requests, let those in flight land, check in every lease still held,
        revoke every license the run created, then check in any lease granted
        meanwhile (a revoked license grants no more). The ledger is deleted
        only when all of it is done."""
        self.closing = True
        report = CleanupReport()
        if not self.wait_idle(self.settings.request_timeout + 1.0):
            report.problems.append("requests still in flight when the run ended")
        with cleanup_http(
            self.base_url,
            timeout=self.settings.request_timeout,
            pacer=self.pacer,
            budget=max(30.0, self.settings.rate_limit_budget - self.backoff.waited_seconds),
        ) as http:
            first = self.tracker.held()
            report.merge(check_in(http, first, self.ledger))
            if revoke_licenses:
                with self._lock:
                    created = list(self.created_licenses)
                report.merge(revoke(http, created, self.management_token, self.ledger))
            self.wait_idle(self.settings.request_timeout + 1.0)
            seen = {token for token, _, _ in first}
            report.merge(check_in(http, [h for h in self.tracker.held() if h[0] not in seen], self.ledger))
        if self.ledger is not None:
            if report.complete:
                self.ledger.delete()
            else:
                self.ledger.close()
        return report


def _load_inventory(path: Path) -> list[dict[str, Any]]:
    """Inventory: JSON or TOML list of {name, license_key, max_floating_users, floating_timeout_minutes, license_type}."""
    from .settings import SettingsError

    text = Path(path).read_text(encoding="utf-8")
    try:
        if str(path).endswith(".toml"):
            import tomllib

            data = tomllib.loads(text).get("licenses", [])
        else:
            data = json.loads(text)
            data = data.get("licenses", data) if isinstance(data, dict) else data
    except ValueError as exc:
        raise SettingsError(f"inventory {str(path)!r} cannot be parsed: {exc}") from None
    if not isinstance(data, list) or not all(
        isinstance(e, dict) and isinstance(e.get("license_key"), str) for e in data
    ):
        raise SettingsError(f"inventory {str(path)!r} must be a list of licenses, each with a license_key")
    return data


__all__ = ["LicenseFixture", "NotRunnable", "Target", "hardware_binding", "license_auth"]
