"""Licenses for scenarios: made fresh through management, or taken from an inventory.

Each scenario states the policy it needs (seats, timeout, license type,
features) and gets a license of its own, so that no scenario's leases count
against another's seats. With a management token the run creates a
product, a policy and a license per request, tagged with the run id (codes
`lc-<run id>-…`, metadata `leasecheck_run_id`), so that what a run leaves
behind can always be told apart. With an inventory it takes an unused
pre-made license whose policy matches (inventory.py).

When neither can give what a scenario needs, `NotRunnable` says why and the
scenario is reported not_run, never passed. Every license is recorded by
the lease tracker (memory and run ledger) before anyone can use it.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from leasecheck.core.client import Management
from leasecheck.core.interrupts import held
from leasecheck.core.redact import register_secret

from .inventory import TIMEOUT_SLACK, Inventory
from .leases import LeaseTracker

#: Why a scenario whose policy carries metadata.features cannot run on an inventory.
FEATURES_NEED_MANAGEMENT = "needs management access (a policy with metadata.features; an inventory cannot provide one)"


class NotRunnable(Exception):
    """A scenario cannot run on this target; the message says why (reported as not_run)."""


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


class Provisioning:
    """Where the run's licenses come from: management when it has a token, else the inventory."""

    def __init__(
        self, run_id: str, *, management: Management | None, inventory: Inventory | None, tracker: LeaseTracker
    ) -> None:
        self.run_id = run_id
        self.management = management
        self.inventory = inventory
        self.tracker = tracker
        self._creating = 0  # creations under way: their license may not be recorded yet
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """A license is being created (the run must not end before it is recorded)."""
        return self._creating > 0

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
            with self._lock:
                self._creating += 1
            try:
                return self._create(self.management, seats, timeout_minutes, license_type, features, purpose)
            finally:
                with self._lock:
                    self._creating -= 1
        if self.inventory is not None:
            return self._take(self.inventory, seats, timeout_minutes, license_type, features)
        raise NotRunnable("needs a license: the run has neither a management token nor an inventory")

    def set_status(self, fixture: LicenseFixture, action: str) -> None:
        """Suspend, reinstate or revoke a license (management only)."""
        if self.management is None:
            raise NotRunnable(f"needs management access to {action} a license")
        self.management.set_status(fixture.license_id, action)

    def _create(
        self,
        management: Management,
        seats: int | None,
        timeout_minutes: int,
        license_type: str,
        features: list[dict[str, Any]] | None,
        purpose: str,
    ) -> LicenseFixture:
        run = self.run_id
        code = f"lc-{run}-{uuid.uuid4().hex[:8]}"
        meta = {"leasecheck_run_id": run, "purpose": purpose}
        product = management.create_product(f"leasecheck {run} {purpose}", code, meta)
        pmeta: dict[str, Any] = dict(meta)
        if features:
            pmeta["features"] = features
        policy = management.create_policy(
            product["id"],
            name=f"leasecheck {purpose}",
            code=code,
            license_type=license_type,
            max_floating_users=seats,
            floating_timeout_minutes=timeout_minutes,
            metadata=pmeta,
        )
        with held():  # an interrupt waits until the license is recorded (ledger and memory)
            lic, key = management.create_license(product["id"], policy["id"], metadata=meta)
            register_secret(key)
            self.tracker.license(lic["id"], key, created=True)
        return LicenseFixture(
            license_id=lic["id"],
            license_key=key,
            seats=seats,
            timeout_minutes=int(policy.get("floating_timeout_minutes", timeout_minutes)),
            license_type=license_type,
            name=f"{purpose}:{lic['id']}",
            features=features or [],
        )

    def _take(
        self,
        inventory: Inventory,
        seats: int | None,
        timeout_minutes: int,
        license_type: str,
        features: list[dict[str, Any]] | None,
    ) -> LicenseFixture:
        if features:
            raise NotRunnable(
                "needs management access (a policy with metadata.features; an inventory cannot provide one)"
            )
        lic = inventory.claim(seats, timeout_minutes)
        if lic is None:
            shape = (
                "no max_floating_users"
                if seats is None
                else f"max_floating_users={seats} and floating_timeout_minutes <= {max(timeout_minutes, 1) * TIMEOUT_SLACK}"
            )
            raise NotRunnable(
                f"the inventory has no unused license with {shape} "
                "(`leasecheck plan --inventory FILE` lists what it lacks)"
            )
        register_secret(lic.license_key)
        self.tracker.license(lic.license_id, lic.license_key, created=False)
        return LicenseFixture(
            license_id=lic.license_id,
            license_key=lic.license_key,
            seats=seats,
            timeout_minutes=lic.timeout_or(timeout_minutes),
            license_type=lic.license_type if lic.license_type is not None else license_type,
            name=f"inventory:{lic.name}",
        )
