"""Envelope faults: answers missing a required member, errors without an envelope (ENV-*)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from leasecheck.reference_server.envelopes import Envelopes, json_response
from leasecheck.reference_server.errors import ApiError
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import Lease, License, Policy

from . import bug


@bug("missing-field-in-data", "ENV-01", "LIFE-02")
class LeaseViewWithoutDevice(Runtime):
    """The heartbeat and checkin view of a lease forgets the required device_id."""

    def lease_data(self, lic: License, policy: Policy, lease: Lease, now: float, *, with_token: bool) -> dict[str, Any]:
        data = super().lease_data(lic, policy, lease, now, with_token=with_token)
        if not with_token:
            del data["device_id"]  # BUG
        return data


@bug("error-not-enveloped", "ENV-02", "ENV-01")
class FrameworkErrors(Envelopes):
    """Errors leave as the web framework's default body {"detail": ...}: no error.code to branch on, no request id."""

    def error(self, exc: ApiError, request_id: str | None = None) -> Response:
        return json_response({"detail": exc.message}, exc.status, exc.headers)  # BUG
