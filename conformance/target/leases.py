"""What the run holds on the target, and how it gives it all back.

Neither the management subset nor the floating-lease surface has a list
endpoint: what a run does not remember, it can never undo. So the run
remembers as it goes: every license it uses (created by it, or taken from an
inventory) and every lease granted on one of them and not yet ended. In
memory, and, with a run ledger (core/ledger.py), on disk as it happens, so
that `leasecheck cleanup --run-id ID` can finish a run that was killed hard.

At the end (`give_back`, the same procedure however the run ended) it
checks in every lease still held, revokes every license it created (never
an inventory's), then checks in any lease granted meanwhile: a revoked
license grants no more. The ledger is deleted only when all of it is done.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from leasecheck.core.cleanup import CleanupReport, check_in, revoke
from leasecheck.core.client import Exchange, Http
from leasecheck.core.ledger import Ledger

#: Checkin answers after which the lease holds no seat: ended now, or long gone.
ENDED = (404, 409)
LICENSE_AUTH = "License "


class LeaseTracker:
    """The run's licenses and live leases (thread-safe); an observer of every exchange.

    A lease is held from its checkout's 200 until a checkin of it by its own
    license answers 2xx, 404 or 409. Another license's checkin of it (AUTH-02
    probes) is refused with 404 while the lease lives on, so it ends nothing.
    """

    def __init__(self, ledger: Ledger | None = None) -> None:
        self.ledger = ledger
        self._license_of: dict[str, str] = {}  # license key -> license id
        self._created: list[str] = []  # ids of the licenses this run created
        self._held: dict[str, tuple[str, str]] = {}  # lease token -> (license key, license id)
        self._lock = threading.Lock()

    def license(self, license_id: str, license_key: str, *, created: bool) -> None:
        """Record a license before anyone uses it (a killed run can still revoke it)."""
        if self.ledger is not None:
            self.ledger.license(license_id, license_key, created=created)
        with self._lock:
            self._license_of[license_key] = license_id
            if created:
                self._created.append(license_id)

    def __call__(self, ex: Exchange) -> None:
        auth = ex.request_headers.get("Authorization", "")
        if not auth.startswith(LICENSE_AUTH):
            return
        key = auth[len(LICENSE_AUTH) :]
        if ex.operation == "checkout" and ex.ok and ex.lease_token:
            with self._lock:
                license_id = self._license_of.get(key)
                self._held[ex.lease_token] = (key, license_id or "?")
            if self.ledger is not None:
                self.ledger.lease(ex.lease_token, license_id, None if license_id else key)
        elif ex.operation == "checkin" and (ex.ok or ex.status in ENDED):
            token = _lease_token_sent(ex)
            if token is None:
                return
            with self._lock:
                holder = self._held.get(token)
                ended = holder is not None and holder[0] == key
                if ended:
                    del self._held[token]
            if ended and self.ledger is not None:
                self.ledger.lease_ended(token)

    def held(self) -> list[tuple[str, str, str]]:
        """Every lease still held, as (lease token, license key, license id)."""
        with self._lock:
            return [(tok, key, lic) for tok, (key, lic) in self._held.items()]

    def created(self) -> list[str]:
        """The ids of the licenses the run created (an inventory's are not among them)."""
        with self._lock:
            return list(self._created)

    def close_ledger(self, *, complete: bool) -> None:
        """Delete the ledger when nothing of the run is left on the target; else keep it
        for `leasecheck cleanup`."""
        if self.ledger is None:
            return
        if complete:
            self.ledger.delete()
        else:
            self.ledger.close()


def give_back(
    tracker: LeaseTracker,
    http: Http,
    *,
    management_token: str | None,
    revoke_licenses: bool,
    settle: Callable[[], object],
    width: int,
) -> CleanupReport:
    """Check in what the run holds and revoke what it created, `width` requests at a
    time, on a connection of the cleanup's own (`http`); `settle()` waits until the
    requests still in flight have landed, so that a lease granted meanwhile is checked
    in too."""
    report = CleanupReport()
    first = tracker.held()
    report.merge(check_in(http, first, tracker.ledger, width=width))
    if revoke_licenses:
        report.merge(revoke(http, tracker.created(), management_token, tracker.ledger, width=width))
    settle()
    seen = {token for token, _, _ in first}
    report.merge(check_in(http, [h for h in tracker.held() if h[0] not in seen], tracker.ledger, width=width))
    return report


def _lease_token_sent(ex: Exchange) -> str | None:
    try:
        body: Any = json.loads(ex.request_body) if ex.request_body else None
    except ValueError:
        return None
    token = body.get("lease_token") if isinstance(body, dict) else None
    return token if isinstance(token, str) else None
