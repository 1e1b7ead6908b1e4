"""Lifecycle faults: lease tokens a stranger can guess, answers naming another license (LIFE-*)."""

from __future__ import annotations

import itertools
import time
from typing import Any

from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import Lease, License, Policy

from . import bug


@bug("guessable-lease-tokens", "LIFE-06")
class SequentialTokens(Runtime):
    """Lease tokens are the time in milliseconds and a counter: short, ordered and guessable."""

    _counter = itertools.count()

    def new_token(self) -> str:
        return f"llt_{int(time.time() * 1000):x}{next(self._counter) % 65536:04x}"  # BUG: no randomness


@bug("lease-answers-name-policy", "LIFE-05")
class LeaseAnswersNamePolicy(Runtime):
    """Heartbeat and checkin answers are built from the policy row their seat count came from, and their license_id
    is the policy's id: a client that checks which license it holds sees it change under it.
    """

    def lease_data(self, lic: License, policy: Policy, lease: Lease, now: float, *, with_token: bool) -> dict[str, Any]:
        data = super().lease_data(lic, policy, lease, now, with_token=with_token)
        if not with_token:
            data["license_id"] = policy.id  # BUG: the policy's id, not the license's
        return data
