"""Licenses for a load run, created through the management API.

One product per run, one policy and one license per license the profile
needs (`Profile.licenses`), all named with the run id so a shared target's
operators can find them; then the profile's `prepare` may measure the
target (`TargetSetup`). Used by the runner and, under plain `locust -f`, by
the locust master.
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

from leasecheck.core.client import ApiError, Exchange, Http, LeaseClient, Management, hardware_binding
from leasecheck.core.errors import UsageError
from leasecheck.core.ledger import Ledger
from leasecheck.core.redact import register_secret
from leasecheck.load.config import LicenseGrant, LoadConfig
from leasecheck.load.profiles.profile import LicenseNeed, Profile


class Made:
    """Every license a run makes on the target, noted as soon as the target answers it: the
    run's own cleanup revokes `ids`, even those made before provisioning failed part way; with a
    ledger (a run on a `--target`) each is also on disk before the run goes on, so a run killed
    hard (kill -9, an OOM kill) leaves `leasecheck cleanup --run-id ID` what to revoke."""

    def __init__(self, ledger: Ledger | None = None) -> None:
        self.ids: list[str] = []
        self.ledger = ledger

    def add(self, license_id: str, license_key: str) -> None:
        self.ids.append(license_id)
        if self.ledger is not None:
            self.ledger.license(license_id, license_key, created=True)


class ProvisioningFailed(UsageError):
    """The target would not give us the licenses; the message is the one-line reason."""


def provision(
    management: Management,
    profile_name: str,
    needs: list[LicenseNeed],
    run_id: str,
    made: Made | None = None,
) -> list[LicenseGrant]:
    """The run's licenses. Each is added to `made` as soon as the target answers it, so a
    caller can revoke what was made even when a later request fails."""
    meta = {"leasecheck_run_id": run_id, "purpose": f"load {profile_name}"}
    code = f"lc-load-{run_id}"
    grants = []
    try:
        product = management.create_product(f"leasecheck load {profile_name} {run_id}", code, meta)
        for i, need in enumerate(needs):
            policy = management.create_policy(
                product["id"],
                name=f"leasecheck load {need.group}",
                code=f"{code}-{i}",
                license_type="subscription",
                max_floating_users=need.seats,
                floating_timeout_minutes=need.timeout_minutes,
                metadata=meta,
            )
            answers: list[Exchange] = []
            management.http.observers.append(answers.append)
            try:
                sent = time.time()
                lic, key = management.create_license(product["id"], policy["id"], metadata=meta)
                received = time.time()
            finally:
                management.http.observers.remove(answers.append)
            if made is not None:
                made.add(str(lic["id"]), key)
            # The model checker's create_license op: its instants on this (the master's) clock, and the
            # server's stamp of the answer, which places it on the server's clock (`clocks.created_window`).
            stamp = answers[-1].stamp if answers else None
            created = [sent, received] if stamp is None else [sent, received, stamp]
            register_secret(key)
            timeout = int(policy.get("floating_timeout_minutes", need.timeout_minutes))
            grants.append(
                LicenseGrant(
                    name=f"{need.group}:{lic['id']}",
                    license_id=str(lic["id"]),
                    key=key,
                    seats=need.seats,
                    timeout_minutes=timeout,
                    group=need.group,
                    created=created,
                )
            )
    except ApiError as exc:
        raise ProvisioningFailed(f"provisioning licenses on the target failed: {exc}") from None
    return grants


def idle_checkout_latency(target: str, grant: LicenseGrant, samples: int = 15) -> float:
    """Median checkout latency of an idle target, in seconds (checkout then checkin)."""
    times = []
    with Http(target, timeout=10.0) as http:
        client = LeaseClient(http, grant.key)
        for _ in range(samples):
            ex = client.checkout(hardware_binding())
            if ex.status is not None:
                times.append(ex.elapsed)
            if ex.lease_token:
                client.checkin(ex.lease_token)
    if not times:
        raise ProvisioningFailed("the calibration checkouts got no answer from the target")
    return statistics.median(times)


def build_config(
    *,
    profile: Profile,
    target: str,
    token: str,
    users: int,
    duration: float,
    minute_seconds: float,
    params: dict[str, Any],
    shard_dir: str,
    run_id: str | None = None,
    slos: list[str] | None = None,
    made: Made | None = None,
) -> LoadConfig:
    """Provision, calibrate what needs calibrating, and return the run's config. Every license
    made on the target, the calibration's too, is added to `made` (see `provision`)."""
    run_id = run_id or uuid.uuid4().hex[:10]
    register_secret(token)
    params = dict(params)
    with Http(target, timeout=10.0) as http:
        management = Management(http, token)
        grants = provision(management, profile.name, profile.licenses(users, params, minute_seconds), run_id, made)
        params = profile.prepare(params, TargetSetup(target, management, run_id, made))
    return LoadConfig(
        profile=profile.name,
        target=target,
        minute_seconds=minute_seconds,
        users=users,
        duration=duration,
        shard_dir=shard_dir,
        run_id=run_id,
        params=params,
        licenses=grants,
        slos=list(slos or []),
    )


class TargetSetup:
    """What a profile's `prepare` may ask of the target (see `profile.Setup`)."""

    def __init__(self, target: str, management: Management, run_id: str, made: Made | None = None) -> None:
        self.target, self.management, self.run_id = target, management, run_id
        self.made = made

    def idle_checkout_latency(self) -> float:
        """On a one-seat license of its own, so the run's licenses start untouched."""
        return idle_checkout_latency(self.target, _calibration_license(self.management, self.run_id, self.made))


def _calibration_license(management: Management, run_id: str, made: Made | None) -> LicenseGrant:
    try:
        product = management.create_product(f"leasecheck calibration {run_id}", f"lc-cal-{run_id}")
        policy = management.create_policy(
            product["id"],
            name="calibration",
            code=f"lc-cal-{run_id}",
            license_type="subscription",
            max_floating_users=1,
            floating_timeout_minutes=1,
        )
        lic, key = management.create_license(product["id"], policy["id"])
    except ApiError as exc:
        raise ProvisioningFailed(f"creating the calibration license failed: {exc}") from None
    register_secret(key)
    if made is not None:
        made.add(str(lic["id"]), key)
    return LicenseGrant(
        name=f"calibration:{lic['id']}",
        license_id=str(lic["id"]),
        key=key,
        seats=1,
        timeout_minutes=1,
        group="calibration",
    )
