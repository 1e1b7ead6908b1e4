"""`leasecheck cleanup`: finish what a killed run left on the target."""

from __future__ import annotations

from pathlib import Path

import click

from leasecheck.cli.errors import UsageFailure
from leasecheck.cli.options import management_token_option, state_dir_option
from leasecheck.core import ledger as ledgers
from leasecheck.core.inputs import header_value, positive_finite, target_url
from leasecheck.core.ledger import LedgerError
from leasecheck.core.redact import register_secret


@click.command("cleanup")
@click.option("--run-id", help="the run to clean up (printed by the run, in results.json and in codes lc-<run id>-…)")
@click.option("--target", help="base URL to use instead of the one recorded in the ledger")
@management_token_option()
@state_dir_option
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
    from leasecheck.core.cleanup import check_in, cleanup_http, revoke  # imported when run: --help stays fast
    from leasecheck.core.preflight import require_management_token

    directory = ledgers.state_dir(state_dir)
    if list_runs:
        pending = ledgers.pending_runs(directory)
        unreadable = []
        for p in pending:
            try:
                st = ledgers.read(p)
            except LedgerError as exc:
                unreadable.append(str(exc))
                continue
            click.echo(f"{p.stem}  {st.target}  {len(st.held_leases())} leases, {len(st.to_revoke())} licenses pending")
        if not pending:
            click.echo(f"no run is pending cleanup (no ledger in {directory})")
        if unreadable:  # the others are listed; the first bad line is the error
            more = f" (and {len(unreadable) - 1} more unreadable ledger(s))" if len(unreadable) > 1 else ""
            raise UsageFailure(unreadable[0] + more)
        raise SystemExit(0)
    if not run_id:
        raise UsageFailure("cleanup needs --run-id ID (or --list)")
    if max_rps is not None:
        positive_finite(max_rps, "--max-rps")
    positive_finite(request_timeout, "--request-timeout")
    if target is not None:
        target = target_url(target)
    if management_token is not None:
        register_secret(management_token)
        header_value(management_token)
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
    except LedgerError as exc:
        raise UsageFailure(str(exc)) from None
    if not (target or state.target):
        raise UsageFailure(f"ledger {path} records no target; give --target URL")
    base = target or target_url(str(state.target), what=f"the target recorded in {path}")
    for lic in state.licenses.values():
        register_secret(lic.license_key)
    leases, to_revoke = state.held_leases(), state.to_revoke()
    with cleanup_http(base, timeout=request_timeout, max_rps=max_rps) as http:
        probe = http.request("GET", "/health")
        if probe.error:
            raise UsageFailure(f"cannot reach {base}: {probe.error}")
        if management_token:  # asked first, as conformance, doctor and load ask (core/preflight.py)
            require_management_token(base, management_token, timeout=request_timeout)
        try:
            ledger = ledgers.open_existing(path)
        except LedgerError as exc:
            raise UsageFailure(str(exc)) from None
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
    for problem in report.problems:
        click.echo(f"  not done: {problem}")
    if state.torn_lines:
        click.echo(f"  note: {state.torn_lines} unreadable ledger line(s) skipped (the run died mid-write)")
    raise SystemExit(0 if report.complete else 1)
