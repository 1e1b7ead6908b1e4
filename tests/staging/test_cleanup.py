"""Acceptance 1: a run cleans up after itself however it ends.

Interrupted half-way (Ctrl-C, or SIGTERM as a CI runner sends), the run itself
checks in its leases and revokes its licenses; killed hard (SIGKILL), its
ledger lets `leasecheck cleanup --run-id` do the same afterwards. Both are
judged from the reference server's database, never from the run's own report.
"""

from __future__ import annotations

import json
import signal
import stat
import time
from pathlib import Path

import pytest

from leasecheck.core.ledger import Ledger, LedgerError, read
from leasecheck.core.server_process import ReferenceServer

from .conftest import (
    QUICK_AREAS,
    cli_env,
    conformance_args,
    ledger_events,
    new_run_id,
    run_cli,
    run_on_server,
    start_cli,
    wait_for,
)

HALF_WAY_LICENSES = 10  # a run of QUICK_AREAS creates about 27


def _count(events: list[dict], kind: str) -> int:
    return sum(1 for e in events if e.get("event") == kind)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_checks_in_and_revokes_everything(server, state_dir: Path, tmp_path: Path, signum: int):
    run_id = new_run_id("int")
    ledger = state_dir / "runs" / f"{run_id}.jsonl"
    proc = start_cli(
        *conformance_args(server, tmp_path / "report", run_id, *QUICK_AREAS),
        env=cli_env(state_dir, LEASECHECK_MANAGEMENT_TOKEN=server.management_token),
    )
    try:
        events = wait_for(
            lambda: (ev := ledger_events(ledger)) and _count(ev, "license") >= HALF_WAY_LICENSES and ev,
            timeout=60,
            what="the run creating licenses",
        )
        assert _count(events, "lease") > 0, "no lease was granted before the interrupt"
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out[-3000:]  # an interrupted run never passes
    left = run_on_server(server.db_path, run_id)
    assert left.licenses >= HALF_WAY_LICENSES
    assert not left.unrevoked, f"licenses of the run not revoked: {left.unrevoked}\n{out[-3000:]}"
    assert not left.live_leases, f"leases of the run still hold seats: {left.live_leases}\n{out[-3000:]}"
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert results["interrupted"] is True and results["outcome"] == "failed"
    assert results["cleanup"]["complete"] is True
    assert results["cleanup"]["licenses_revoked"] == left.licenses
    assert not ledger.exists(), "a complete cleanup deletes the ledger"
    assert "Traceback" not in out


def test_an_interrupt_inside_the_generated_run_is_never_a_pass(server, state_dir: Path, tmp_path: Path):
    """schemathesis's engine catches the KeyboardInterrupt a signal raises while it runs
    and ends its run as if done: the verdict must still say interrupted, and fail."""
    run_id = new_run_id("gen")
    proc = start_cli(
        *conformance_args(server, tmp_path / "report", run_id, "generated"),
        env=cli_env(state_dir, LEASECHECK_MANAGEMENT_TOKEN=server.management_token),
    )
    try:
        wait_for(
            lambda: run_on_server(server.db_path, run_id).live_leases,
            timeout=60,
            what="the generated run checking out leases",
        )
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out[-3000:]
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert results["interrupted"] is True and results["outcome"] == "failed", out[-3000:]
    assert "FAILED" in out.splitlines()[-1] and "interrupted" in out.splitlines()[-1], out[-3000:]
    assert not run_on_server(server.db_path, run_id).unrevoked
    assert "Traceback" not in out


def test_killed_run_is_finished_by_cleanup_command(server, state_dir: Path, tmp_path: Path):
    run_id = new_run_id("kill")
    ledger = state_dir / "runs" / f"{run_id}.jsonl"
    proc = start_cli(
        *conformance_args(server, tmp_path / "report", run_id, *QUICK_AREAS),
        env=cli_env(state_dir, LEASECHECK_MANAGEMENT_TOKEN=server.management_token),
    )
    try:
        wait_for(
            lambda: (
                (ev := ledger_events(ledger))
                and _count(ev, "license") >= HALF_WAY_LICENSES
                and _count(ev, "lease") > _count(ev, "lease_ended")
            ),
            timeout=60,
            what="the run holding leases",
        )
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = run_on_server(server.db_path, run_id)
    assert before.unrevoked and before.live_leases, "the killed run should have left work behind"
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    assert stat.S_IMODE(ledger.parent.stat().st_mode) == 0o700

    listed = run_cli("cleanup", "--list", env=cli_env(state_dir))
    assert listed.returncode == 0 and run_id in listed.stdout

    # Without a management token: leases are checked in, licenses cannot be revoked; the ledger stays.
    partial = run_cli("cleanup", "--run-id", run_id, env=cli_env(state_dir))
    assert partial.returncode == 1, partial.stdout + partial.stderr
    assert "no management token" in partial.stdout and ledger.exists()
    assert not run_on_server(server.db_path, run_id).live_leases

    done = run_cli(
        "cleanup", "--run-id", run_id, env=cli_env(state_dir, LEASECHECK_MANAGEMENT_TOKEN=server.management_token)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(before.unrevoked)} licenses revoked" in done.stdout and "ledger deleted" in done.stdout
    after = run_on_server(server.db_path, run_id)
    assert after.licenses == before.licenses
    assert not after.unrevoked and not after.live_leases
    assert not ledger.exists()
    for text in (listed.stdout, partial.stdout, done.stdout, done.stderr):
        assert server.management_token not in text and "lk_" not in text and "llt_" not in text

    again = run_cli("cleanup", "--run-id", run_id, env=cli_env(state_dir))
    assert again.returncode == 2 and "no ledger for run" in again.stderr
    in_ci = run_cli("cleanup", "--run-id", run_id, "--missing-ok", env=cli_env(state_dir))
    assert in_ci.returncode == 0 and "nothing to clean up" in in_ci.stdout


def test_cleanup_refuses_bad_input_with_one_line(state_dir: Path):
    for args, needle in (
        (["--run-id", "../etc"], "must be 1-64"),
        ([], "needs --run-id"),
        (["--run-id", "nosuchrun"], "no ledger for run"),
    ):
        proc = run_cli("cleanup", *args, env=cli_env(state_dir))
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_state_dir_inside_report_dir_is_refused(server, tmp_path: Path):
    report = tmp_path / "report"
    proc = run_cli(
        *conformance_args(server, report, new_run_id("x"), "status"),
        env=cli_env(report / "state", LEASECHECK_MANAGEMENT_TOKEN=server.management_token),
    )
    assert proc.returncode == 2 and "inside the report dir" in proc.stderr


def test_ledger_is_private_append_only_and_survives_a_torn_line(tmp_path: Path):
    d = tmp_path / "runs"
    led = Ledger.create(d, "r1", {"target": "http://127.0.0.1:9"})
    led.license("lic_a", "lk_secret_a", created=True)
    led.license("lic_inv", "lk_inventory", created=False)
    led.lease("llt_one", "lic_a")
    led.lease("llt_two", "lic_a")
    led.lease_ended("llt_one")
    led.close()
    with open(led.path, "a", encoding="utf-8") as fh:
        fh.write('{"v":1,"event":"lease","tok')  # the process died mid-write
    st = read(led.path)
    assert st.run_id == "r1" and st.target == "http://127.0.0.1:9" and st.torn_lines == 1
    assert st.held_leases() == [("llt_two", "lk_secret_a", "lic_a")]
    assert st.to_revoke() == ["lic_a"]  # never an inventory license
    assert stat.S_IMODE(led.path.stat().st_mode) == 0o600 and stat.S_IMODE(d.stat().st_mode) == 0o700
    with pytest.raises(LedgerError, match="already has a ledger"):
        Ledger.create(d, "r1", {})


LONG_MINUTE = 60.0


def test_an_interrupt_does_not_wait_out_the_lease_windows(state_dir: Path, tmp_path: Path):
    """Expiry scenarios wait on lease deadlines in background threads; Ctrl-C must
    end those waits, not sit out a lease window before cleaning up. The window
    is a real minute here, so the bound (half of it) holds on a loaded machine
    while the broken behaviour (a whole window) still fails it."""
    with ReferenceServer(minute_seconds=LONG_MINUTE) as server:
        _interrupt_during_expiry_waits(server, state_dir, tmp_path)


def _interrupt_during_expiry_waits(server: ReferenceServer, state_dir: Path, tmp_path: Path) -> None:
    run_id = new_run_id("win")
    ledger = state_dir / "runs" / f"{run_id}.jsonl"
    proc = start_cli(
        *conformance_args(server, tmp_path / "report", run_id, "expiry", "timing"),
        env=cli_env(state_dir, LEASECHECK_MANAGEMENT_TOKEN=server.management_token),
    )
    try:
        wait_for(lambda: _count(ledger_events(ledger), "lease") >= 3, timeout=60, what="the expiry leases")
        proc.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        out, _ = proc.communicate(timeout=120)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out[-3000:]
    assert took < LONG_MINUTE / 2, f"the run took {took:.1f} s to stop after SIGINT\n{out[-2000:]}"
    left = run_on_server(server.db_path, run_id)
    assert not left.unrevoked and not left.live_leases, out[-3000:]
