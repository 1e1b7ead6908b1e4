"""The server under test, and how the suite gets licenses on it.

A target is a base URL plus a way to get licenses: a management token (the
suite creates a fresh product, policy and license per scenario, named with
the run id) or an inventory file of pre-made licenses. Every exchange passes
through observers: envelope inspection, the server clock, lease tracking (so
the run checks in what it still holds when it ends).
"""
from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..core.client import (Exchange, Http, LeaseClient, Management, System, hardware_binding,
                           license_auth)
from ..core.envelope import Finding, Inspector
from ..core.redact import register_secret
from ..core.signing import KeyRing
from ..core.timeutil import ServerClock
from .settings import Settings


class NotRunnable(Exception):
    """A scenario cannot run on this target; the message says why (reported as not_run)."""


class TargetUnreachable(Exception):
    """The target cannot be used at all; the message is the one-line reason."""


class TargetStoppedAnswering(Exception):
    """Too many requests in a row got no answer: the rest of the run fails fast."""


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
    """Remembers leases granted and not yet ended, per license key (in memory only)."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, str]] = {}  # token -> (license key, license id)
        self._lock = threading.Lock()
        self.key_to_license: dict[str, str] = {}

    def __call__(self, ex: Exchange) -> None:
        auth = ex.request_headers.get("Authorization", "")
        if not auth.startswith("License "):
            return
        key = auth[len("License "):]
        if ex.operation == "checkout" and ex.ok and ex.lease_token:
            with self._lock:
                self._held[ex.lease_token] = (key, self.key_to_license.get(key, "?"))
        elif ex.operation == "checkin" and ex.status is not None and ex.status < 500:
            body = _json(ex.request_body)
            token = body.get("lease_token") if isinstance(body, dict) else None
            if ex.ok or ex.status in (404, 409):
                with self._lock:
                    self._held.pop(token, None)

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

    def __init__(self, settings: Settings, base_url: str, *, management_token: str | None,
                 on_finding: Callable[[Exchange, list[Finding]], None] | None = None,
                 before_request: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.management_token = management_token
        register_secret(management_token)
        self.clock = ServerClock()
        self.keyring = KeyRing()
        self.tracker = LeaseTracker()
        self.on_finding = on_finding
        self._before_request = before_request
        self._silent_in_a_row = 0
        self._https: list[Http] = []
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
        if self._silent_in_a_row >= SILENCE_LIMIT:
            raise TargetStoppedAnswering(
                f"the target did not answer {self._silent_in_a_row} requests in a row; not sending more")
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
        http = Http(self.base_url, timeout=self.settings.request_timeout, observers=[self._observe],
                    before_request=self._gate)
        self._https.append(http)
        return http

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
    def license(self, *, seats: int | None = 1, timeout_minutes: int = 1, license_type: str = "subscription",
                features: list[dict[str, Any]] | None = None, purpose: str = "scenario") -> LicenseFixture:
        """A fresh license with this policy (management), or a matching unused one (inventory)."""
        if self.management is not None:
            return self._create(seats, timeout_minutes, license_type, features, purpose)
        return self._from_inventory(seats, timeout_minutes, license_type, features)

    def _create(self, seats: int | None, timeout_minutes: int, license_type: str,
                features: list[dict[str, Any]] | None, purpose: str) -> LicenseFixture:
        assert self.management is not None
        run = self.settings.run_id
        code = f"lc-{run}-{uuid.uuid4().hex[:8]}"
        meta = {"leasecheck_run_id": run, "purpose": purpose}
        product = self.management.create_product(f"leasecheck {run} {purpose}", code, meta)
        pmeta = dict(meta)
        if features:
            pmeta["features"] = features
        policy = self.management.create_policy(
            product["id"], name=f"leasecheck {purpose}", code=code, license_type=license_type,
            max_floating_users=seats, floating_timeout_minutes=timeout_minutes, metadata=pmeta)
        lic, key = self.management.create_license(product["id"], policy["id"], metadata=meta)
        register_secret(key)
        self.tracker.key_to_license[key] = lic["id"]
        with self._lock:
            self.created_licenses.append(lic["id"])
        got_timeout = policy.get("floating_timeout_minutes", timeout_minutes)
        return LicenseFixture(license_id=lic["id"], license_key=key, seats=seats,
                              timeout_minutes=int(got_timeout), license_type=license_type,
                              name=f"{purpose}:{lic['id']}", features=features or [])

    def _from_inventory(self, seats: int | None, timeout_minutes: int, license_type: str,
                        features: list[dict[str, Any]] | None) -> LicenseFixture:
        assert self._inventory is not None
        if features:
            raise NotRunnable("needs a policy with metadata.features; an inventory cannot provide one")
        with self._lock:
            for entry in self._inventory:
                if entry["license_key"] in self._inventory_used:
                    continue
                if entry.get("max_floating_users") != seats:
                    continue
                if seats is not None and entry.get("floating_timeout_minutes", timeout_minutes) > max(timeout_minutes, 1) * 5:
                    continue
                self._inventory_used.add(entry["license_key"])
                register_secret(entry["license_key"])
                lic_id = entry.get("license_id", entry.get("name", "inventory"))
                self.tracker.key_to_license[entry["license_key"]] = lic_id
                return LicenseFixture(license_id=lic_id, license_key=entry["license_key"], seats=seats,
                                      timeout_minutes=int(entry.get("floating_timeout_minutes", timeout_minutes)),
                                      license_type=entry.get("license_type", license_type),
                                      name=f"inventory:{entry.get('name', lic_id)}")
        raise NotRunnable(f"the inventory has no unused license with max_floating_users={seats}")

    def set_status(self, fixture: LicenseFixture, action: str) -> None:
        if self.management is None:
            raise NotRunnable(f"needs management access to {action} a license")
        self.management.set_status(fixture.license_id, action)

    # ---------------------------------------------------------------- ending
    def release_all(self) -> int:
        """Check in every lease this run still holds. Returns how many were released."""
        released = 0
        for token, key, _lic in self.tracker.held():
            ex = LeaseClient(self.http, key).checkin(token)
            released += int(ex.ok)
        return released


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
    if not isinstance(data, list) or not all(isinstance(e, dict) and isinstance(e.get("license_key"), str) for e in data):
        raise SettingsError(f"inventory {str(path)!r} must be a list of licenses, each with a license_key")
    return data


def probe(base_url: str, timeout: float = 5.0) -> Exchange:
    """GET /health once. A target nobody listens at raises TargetUnreachable with a
    one-line reason; one that accepts the connection but answers badly or late is
    returned as is, so the run judges it (and fails) rather than refusing it."""
    with Http(base_url, timeout=timeout) as http:
        ex = System(http).health()
    if ex.error and not ex.error.startswith(("ReadTimeout", "RemoteProtocolError", "ReadError")):
        raise TargetUnreachable(f"cannot reach {base_url}: {ex.error}")
    return ex


__all__ = ["Target", "LicenseFixture", "NotRunnable", "TargetUnreachable", "probe",
           "hardware_binding", "license_auth"]
