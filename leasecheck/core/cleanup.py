"""Undo what a run did on a target: check in its leases, revoke its licenses.

One procedure serves the end of every run (normal, failed, Ctrl-C, SIGTERM)
and `leasecheck cleanup --run-id ID` for a run that was killed hard; the
latter reads the run's ledger (see ledger.py). Leases are checked in before
licenses are revoked, because a server may refuse a checkin on a revoked
license. Licenses from an inventory are never revoked: they are not ours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from leasecheck.core.client import Http, LeaseClient, new_key
from leasecheck.core.pacing import Backoff, Pacer
from leasecheck.core.redact import lease_ref

from .ledger import Ledger

#: Answers to a checkin meaning the lease no longer holds a seat (expired, unknown, ended).
DEAD_LEASE = (404, 409, 410, 422)
#: Answers to a revoke meaning there is nothing (more) to revoke.
NOTHING_TO_REVOKE = (404, 409, 410)


@dataclass
class CleanupReport:
    """What one cleanup did; `problems` lists what it could not do, one line each."""

    leases_checked_in: int = 0
    leases_already_ended: int = 0
    licenses_revoked: int = 0
    licenses_already_final: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems

    def merge(self, other: CleanupReport) -> None:
        self.leases_checked_in += other.leases_checked_in
        self.leases_already_ended += other.leases_already_ended
        self.licenses_revoked += other.licenses_revoked
        self.licenses_already_final += other.licenses_already_final
        self.problems += other.problems

    def to_json(self) -> dict[str, object]:
        return {
            "leases_checked_in": self.leases_checked_in,
            "leases_already_ended": self.leases_already_ended,
            "licenses_revoked": self.licenses_revoked,
            "licenses_already_final": self.licenses_already_final,
            "complete": self.complete,
            "problems": self.problems[:20],
        }

    def line(self) -> str:
        return (
            f"{self.leases_checked_in} leases checked in ({self.leases_already_ended} had already ended), "
            f"{self.licenses_revoked} licenses revoked ({self.licenses_already_final} already final)"
        )


def check_in(http: Http, leases: Iterable[tuple[str, str, str | None]], ledger: Ledger | None) -> CleanupReport:
    """Check in every (token, license key, license id); record each ended lease in the ledger."""
    rep = CleanupReport()
    for token, key, _license_id in leases:
        ex = LeaseClient(http, key).checkin(token)
        if ex.ok:
            rep.leases_checked_in += 1
        elif ex.status in DEAD_LEASE:
            rep.leases_already_ended += 1
        else:
            rep.problems.append(f"lease {lease_ref(token)}: checkin answered {ex.error or ex.status}")
            continue
        if ledger is not None:
            ledger.lease_ended(token)
    return rep


def revoke(
    http: Http, license_ids: Iterable[str], management_token: str | None, ledger: Ledger | None
) -> CleanupReport:
    """Revoke every license; record each in the ledger."""
    rep = CleanupReport()
    ids = list(license_ids)
    if ids and not management_token:
        rep.problems.append(f"{len(ids)} licenses not revoked: no management token")
        return rep
    for lid in ids:
        ex = http.request(
            "POST",
            f"/api/v1/licenses/{lid}/revoke",
            json_body={},
            headers={"Authorization": f"Bearer {management_token}", "Idempotency-Key": new_key()},
            operation="management",
        )
        if ex.status == 200:
            rep.licenses_revoked += 1
        elif ex.status in NOTHING_TO_REVOKE:
            rep.licenses_already_final += 1
        else:
            rep.problems.append(f"license {lid}: revoke answered {ex.error or ex.status}")
            continue
        if ledger is not None:
            ledger.revoked(lid)
    return rep


def cleanup_http(
    base_url: str, *, timeout: float, max_rps: float | None = None, pacer: Pacer | None = None, budget: float = 120.0
) -> Http:
    """A connection for cleanup: paced (by the run's own pacer when there is one) and
    429-tolerant, but not gated by the run (a run that is ending refuses new scenario
    requests, not its own cleanup)."""
    pacer = pacer or (Pacer(max_rps) if max_rps else None)
    return Http(
        base_url,
        timeout=timeout,
        before_request=pacer.acquire if pacer else None,
        backoff=Backoff(budget_seconds=budget),
    )


__all__ = ["CleanupReport", "check_in", "cleanup_http", "revoke"]
