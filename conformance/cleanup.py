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
from pathlib import Path

import click

from leasecheck.core.client import Http, LeaseClient, new_key
from leasecheck.core.pacing import Backoff, Pacer
from leasecheck.core.redact import lease_ref, register_secret

from . import ledger as ledgers
from .ledger import Ledger, LedgerError

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


# ---------------------------------------------------------------- the command
@click.command("cleanup")
@click.option("--run-id", help="the run to clean up (printed by the run, in results.json and in codes lc-<run id>-…)")
@click.option("--target", help="base URL to use instead of the one recorded in the ledger")
@click.option(
    "--management-token",
    envvar="LEASECHECK_MANAGEMENT_TOKEN",
    help="management Bearer token (prefer env LEASECHECK_MANAGEMENT_TOKEN)",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="state directory (env LEASECHECK_STATE_DIR; default ~/.local/state/leasecheck)",
)
@click.option("--max-rps", type=float, help="average request-rate cap")
@click.option("--request-timeout", type=float, default=10.0, show_default=True)
@click.option("--list", "list_runs", is_flag=True, help="list runs whose ledger is still pending, then exit")
@click.option("--missing-ok", is_flag=True, help="no ledger for the run (it cleaned up after itself) is not an error")
def cleanup(
    run_id: str | None,
    target: str | None,
    management_token: str | None,
    state_dir: Path | None,
    max_rps: float | None,
    request_timeout: float,
    list_runs: bool,
    missing_ok: bool,
) -> None:
    """Finish the cleanup of a run that was killed: check in its leases, revoke its licenses.

    Exit 0 when nothing of the run is left (its ledger is deleted), 1 when
    something could not be undone (the ledger is kept; run again), 2 on bad
    input."""
    from leasecheck.cli import UsageFailure

    directory = ledgers.state_dir(state_dir)
    if list_runs:
        for p in ledgers.pending_runs(directory):
            st = ledgers.read(p)
            click.echo(f"{p.stem}  {st.target}  {len(st.held_leases())} leases, {len(st.to_revoke())} licenses pending")
        raise SystemExit(0)
    if not run_id:
        raise UsageFailure("cleanup needs --run-id ID (or --list)")
    if max_rps is not None and not max_rps > 0:
        raise UsageFailure(f"--max-rps must be > 0, got {max_rps}")
    try:
        path = ledgers.ledger_path(directory, run_id)
        if not path.is_file() and missing_ok:
            click.echo(f"run {run_id}: nothing to clean up (no ledger in {directory})")
            raise SystemExit(0)
        if not path.is_file():
            raise UsageFailure(
                f"no ledger for run {run_id} in {directory} (already cleaned up, or another --state-dir)"
            )
        state = ledgers.read(path)
        ledger = ledgers.open_existing(path)
    except LedgerError as exc:
        raise UsageFailure(str(exc)) from None
    base = (target or state.target or "").rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise UsageFailure(f"ledger {path} records no target; give --target URL")
    register_secret(management_token)
    for lic in state.licenses.values():
        register_secret(lic.license_key)
    leases, to_revoke = state.held_leases(), state.to_revoke()
    with cleanup_http(base, timeout=request_timeout, max_rps=max_rps) as http:
        probe = http.request("GET", "/health")
        if probe.error:
            ledger.close()
            raise UsageFailure(f"cannot reach {base}: {probe.error}")
        report = check_in(http, leases, ledger)
        report.merge(revoke(http, to_revoke, management_token, ledger))
    if report.complete:
        ledger.delete()
    else:
        ledger.close()
    click.echo(
        f"run {run_id} on {base}: {report.line()}"
        + ("; ledger deleted" if report.complete else f"; ledger kept at {path}")
    )
    for p in report.problems:
        click.echo(f"  not done: {p}")
    if state.torn_lines:
        click.echo(f"  note: {state.torn_lines} unreadable ledger line(s) skipped (the run died mid-write)")
    raise SystemExit(0 if report.complete else 1)


__all__ = ["CleanupReport", "check_in", "cleanup", "cleanup_http", "revoke"]
