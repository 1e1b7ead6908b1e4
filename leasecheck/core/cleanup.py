"""Undo what a run did on a target: check in its leases, revoke its licenses.

One procedure serves the end of every run (normal, failed, Ctrl-C, SIGTERM)
and `leasecheck cleanup --run-id ID` for a run that was killed hard; the
latter reads the run's ledger (see ledger.py). Leases are checked in before
licenses are revoked, because a server may refuse a checkin on a revoked
license. Licenses from an inventory are never revoked: they are not ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, fields
from typing import TypeVar

from leasecheck.core.client import Http, LeaseClient, new_key
from leasecheck.core.pacing import Backoff, Pacer
from leasecheck.core.redact import lease_ref

from .ledger import Ledger

#: Answers to a checkin meaning the lease no longer holds a seat (expired, unknown, ended).
DEAD_LEASE = (404, 409, 410, 422)
#: Answers to a revoke meaning there is nothing (more) to revoke.
NOTHING_TO_REVOKE = (404, 409, 410)
#: Cleanup requests in flight at once. A run leaves a few dozen licenses and leases behind;
#: one after another, the end of a run against a server 150 ms away (63 revokes, 11
#: checkins) took 18 s, eight at once 2.5 s. Eight stay far below any --concurrency a race
#: scenario uses, and the run's rate cap (`Pacer`) still spaces them.
WIDTH = 8

T = TypeVar("T")
#: One item's outcome: (done, already final, the problem line if neither).
Outcome = tuple[bool, bool, str]
Settled = tuple[int, int, list[str]]


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
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_json(self) -> dict[str, object]:
        counts = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "problems"}
        return {**counts, "complete": self.complete, "problems": self.problems[:20]}

    def line(self) -> str:
        return (
            f"{self.leases_checked_in} leases checked in ({self.leases_already_ended} had already ended), "
            f"{self.licenses_revoked} licenses revoked ({self.licenses_already_final} already final)"
        )


def _settle(items: Iterable[T], act: Callable[[T], Outcome], record: Callable[[T], None] | None, width: int) -> Settled:
    """Act on every item, `width` at a time, and count the outcomes; `record` notes each
    settled item (in the ledger) as soon as its answer is in, so a run killed during its
    cleanup leaves a ledger that lists only what is still to do.

    One loop serves checkins and revokes: both end in done, already final, or
    a problem line (listed in the items' order), and only a settled item is
    written off in the ledger.
    """
    todo = list(items)
    done, already, problems = 0, 0, {}
    with ThreadPoolExecutor(max_workers=max(1, min(width, len(todo) or 1)), thread_name_prefix="cleanup") as pool:
        futures = {pool.submit(act, item): n for n, item in enumerate(todo)}
        for future in as_completed(futures):
            n = futures[future]
            ok, final, problem = future.result()
            if ok or final:
                done, already = done + ok, already + (not ok)
                if record is not None:
                    record(todo[n])
            else:
                problems[n] = problem
    return done, already, [problems[n] for n in sorted(problems)]


def check_in(
    http: Http, leases: Iterable[tuple[str, str, str | None]], ledger: Ledger | None, *, width: int = WIDTH
) -> CleanupReport:
    """Check in every (token, license key, license id), `width` at a time; record each
    ended lease in the ledger."""

    def act(lease: tuple[str, str, str | None]) -> Outcome:
        ex = LeaseClient(http, lease[1]).checkin(lease[0])
        return ex.ok, ex.status in DEAD_LEASE, f"lease {lease_ref(lease[0])}: checkin answered {ex.error or ex.status}"

    done, already, problems = _settle(
        leases, act, None if ledger is None else (lambda lease: ledger.lease_ended(lease[0])), width
    )
    return CleanupReport(leases_checked_in=done, leases_already_ended=already, problems=problems)


def revoke(
    http: Http, license_ids: Iterable[str], management_token: str | None, ledger: Ledger | None, *, width: int = WIDTH
) -> CleanupReport:
    """Revoke every license, `width` at a time; record each in the ledger."""
    ids = list(license_ids)
    if ids and not management_token:
        return CleanupReport(problems=[f"{len(ids)} licenses not revoked: no management token"])

    def act(lid: str) -> Outcome:
        ex = http.request(
            "POST",
            f"/api/v1/licenses/{lid}/revoke",
            json_body={},
            headers={"Authorization": f"Bearer {management_token}", "Idempotency-Key": new_key()},
            operation="management",
        )
        return (
            ex.status == 200,
            ex.status in NOTHING_TO_REVOKE,
            f"license {lid}: revoke answered {ex.error or ex.status}",
        )

    done, already, problems = _settle(ids, act, None if ledger is None else ledger.revoked, width)
    return CleanupReport(licenses_revoked=done, licenses_already_final=already, problems=problems)


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


__all__ = ["WIDTH", "CleanupReport", "check_in", "cleanup_http", "revoke"]
