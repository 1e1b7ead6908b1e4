"""The management subset the suite provisions through: products, policies,
licenses and license status changes.

Management calls accept an Idempotency-Key (the client sends one) but do not
deduplicate: replaying a license creation would mean keeping the raw license
key at rest, and the suite only provisions through these calls.
"""

from __future__ import annotations

import secrets
from typing import Any

from . import clock
from .errors import CONFLICT, ApiError, not_found, unprocessable
from .leases import effective_status, key_hash
from .settings import DEFAULT_TIMEOUT_MINUTES
from .store import License, Policy, Product, Store
from .validation import check_license_period, policy_features

# action -> (statuses it applies to, resulting status); the target status itself is a no-op.
TRANSITIONS = {
    "suspend": (("active",), "suspended"),
    "reinstate": (("suspended",), "active"),
    "revoke": (("active", "suspended"), "revoked"),
}


#: Policy settings of the contract for what this server does not do: no node-locked
#: activations, no offline use, no transfers; VMs and containers may check out.
POLICY_SETTINGS: dict[str, Any] = {
    "max_activations": 0,
    "grace_period_days": 0,
    "validation_interval_minutes": 0,
    "allow_offline_activation": False,
    "offline_grace_days": 0,
    "allow_vm": True,
    "allow_container": True,
    "max_transfers": 0,
}
#: How much of a raw license key its answers show (`lk_` and five characters).
KEY_PREFIX_LENGTH = 8


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def new_license_key() -> str:
    return "lk_" + secrets.token_urlsafe(32)


class Catalogue:
    def __init__(
        self, store: Store, timestamp_style: str, default_timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES
    ) -> None:
        self.default_timeout_minutes = default_timeout_minutes
        self.store = store
        self.style = timestamp_style

    def _ts(self, instant: float | None) -> str | None:
        return None if instant is None else clock.rfc3339(instant, self.style)

    # ------------------------------------------------------------------ views
    # Every field the official contract requires, with honest values: products and
    # policies are never changed here, so updated_at is their created_at; a policy's
    # settings for features this server does not have (node-locked activations,
    # offline use, transfers) are the values that mean "none"; a license's counters
    # count its floating leases.
    def product_view(self, p: Product) -> dict[str, Any]:
        return {
            "id": p.id,
            "name": p.name,
            "code": p.code,
            "metadata": p.metadata if p.metadata is not None else {},
            "created_at": self._ts(p.created_at),
            "updated_at": self._ts(p.created_at),
        }

    def policy_view(self, p: Policy) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": p.id,
            "product_id": p.product_id,
            "name": p.name,
            "code": p.code,
            "license_type": p.license_type,
        }
        if p.max_floating_users is not None:
            out["max_floating_users"] = p.max_floating_users
        out["floating_timeout_minutes"] = p.floating_timeout_minutes
        out["require_heartbeat"] = p.require_heartbeat
        out.update(POLICY_SETTINGS)
        out["metadata"] = p.metadata if p.metadata is not None else {}
        out["created_at"] = self._ts(p.created_at)
        out["updated_at"] = self._ts(p.created_at)
        return out

    def license_view(self, lic: License) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": lic.id,
            "product_id": lic.product_id,
            "policy_id": lic.policy_id,
            "status": effective_status(lic, clock.now()),
            "entitlement_version": lic.entitlement_version,
        }
        for name in ("customer_id", "order_id", "subscription_id", "customer_email", "customer_name"):
            if getattr(lic, name) is not None:
                out[name] = getattr(lic, name)
        for name in ("starts_at", "expires_at", "maintenance_expires_at"):
            if getattr(lic, name) is not None:
                out[name] = self._ts(getattr(lic, name))
        with self.store.read() as tx:
            devices, granted = tx.lease_counters(lic.id, clock.now())
        out["license_key_prefix"] = lic.key_prefix
        out["license_key_last4"] = lic.key_last4
        out["active_device_count"] = devices
        out["times_activated"] = granted
        out["times_transferred"] = 0
        out["total_consumptions"] = 0
        out["metadata"] = lic.metadata if lic.metadata is not None else {}
        out["created_at"] = self._ts(lic.created_at)
        out["updated_at"] = self._ts(lic.updated_at)
        return out

    # ------------------------------------------------------------------ commands
    def create_product(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.store.write() as tx:
            if tx.product_code_taken(body["code"]):
                raise ApiError(409, CONFLICT, "a product with this code already exists")
            product = Product(_id("prod"), body["name"], body["code"], body.get("metadata"), clock.now())
            tx.insert_product(product)
        return self.product_view(product)

    def create_policy(self, product_id: str, body: dict[str, Any]) -> dict[str, Any]:
        policy_features(body.get("metadata"))  # refuse features that could not be signed later
        with self.store.write() as tx:
            if tx.product(product_id) is None:
                raise not_found("no product with this id")
            if tx.policy_code_taken(product_id, body["code"]):
                raise ApiError(409, CONFLICT, "this product already has a policy with this code")
            policy = Policy(
                id=_id("pol"),
                product_id=product_id,
                name=body["name"],
                code=body["code"],
                license_type=body["license_type"],
                max_floating_users=body.get("max_floating_users"),
                floating_timeout_minutes=body.get("floating_timeout_minutes", self.default_timeout_minutes),
                require_heartbeat=body.get("require_heartbeat", False),
                metadata=body.get("metadata"),
                created_at=clock.now(),
            )
            tx.insert_policy(policy)
        return self.policy_view(policy)

    def create_license(self, body: dict[str, Any]) -> dict[str, Any]:
        check_license_period(body)
        raw_key = new_license_key()
        with self.store.write() as tx:
            if tx.product(body["product_id"]) is None:
                raise not_found("no product with this product_id")
            policy = tx.policy(body["policy_id"])
            if policy is None:
                raise not_found("no policy with this policy_id")
            if policy.product_id != body["product_id"]:
                raise unprocessable("the policy does not belong to the product")
            now = clock.now()
            lic = License(
                id=_id("lic"),
                product_id=body["product_id"],
                policy_id=policy.id,
                key_hash=key_hash(raw_key),
                status="active",
                entitlement_version=1,
                customer_id=body.get("customer_id"),
                order_id=body.get("order_id"),
                subscription_id=body.get("subscription_id"),
                customer_email=body.get("customer_email"),
                customer_name=body.get("customer_name"),
                starts_at=body.get("starts_at"),
                expires_at=body.get("expires_at"),
                maintenance_expires_at=body.get("maintenance_expires_at"),
                metadata=body.get("metadata"),
                created_at=now,
                updated_at=now,
                key_prefix=raw_key[:KEY_PREFIX_LENGTH],
                key_last4=raw_key[-4:],
            )
            tx.insert_license(lic)
        # The raw key is shown here once; only its sha256 is stored.
        return {"license": self.license_view(lic), "license_key": raw_key}

    def change_status(self, license_id: str, action: str) -> dict[str, Any]:
        allowed, target = TRANSITIONS[action]
        with self.store.write() as tx:
            lic = tx.license(license_id)
            if lic is None:
                raise not_found("no license with this id")
            if lic.status != target:
                if lic.status not in allowed:
                    raise ApiError(409, CONFLICT, f"a {lic.status} license cannot be {target}")
                tx.set_license_status(license_id, target, clock.now())
                lic = tx.license(license_id)
                assert lic is not None
        return self.license_view(lic)
