"""Helpers for the shared-staging tests: the CLI in a subprocess with a private
state dir, reference servers started by the test (so their database can be
read), and read-only looks into that database.

Time: the servers here run with one policy minute = 10 s, so every lease the
suite takes lives at least 20 s. A lease still live when a test looks was
never checked in: nothing expires behind the test's back. Nothing sleeps a
fixed time; waits poll with a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from leasecheck.core.server_process import ReferenceServer
from leasecheck.core.timeutil import poll_until
from leasecheck.gallery import process

LEASECHECK = [sys.executable, "-m", "leasecheck.cli"]
MINUTE_SECONDS = 10.0
#: Areas whose scenarios never wait on lease windows: a run of them takes seconds.
QUICK_AREAS = ("lifecycle", "capacity", "idempotency", "auth", "status")


def cli_env(state_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: no LEASECHECK_* settings but these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    env["LEASECHECK_STATE_DIR"] = str(state_dir)
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEASECHECK, *args], capture_output=True, text=True, timeout=timeout, env=env)


def start_cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([*LEASECHECK, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def conformance_args(server: ReferenceServer, report_dir: Path, run_id: str, *areas: str) -> list[str]:
    args = [
        "conformance",
        "--target",
        str(server.base_url),
        "--minute-seconds",
        str(server.minute_seconds),
        "--report-dir",
        str(report_dir),
        "--run-id",
        run_id,
    ]
    for a in areas:
        args += ["--only", a]
    return args


def new_run_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.02) -> Any:
    return poll_until(predicate, timeout, what, interval)


def ledger_events(path: Path) -> list[dict[str, Any]]:
    """The ledger's complete lines (a line being written right now is skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out


@dataclass
class RunOnServer:
    """What one run left on the server, read from its database."""

    license_status: dict[str, str]  # license id -> status, for every license of the run
    live_leases: list[tuple[str, str]]  # (license id, end reason or '') holding a seat now

    @property
    def licenses(self) -> int:
        return len(self.license_status)

    @property
    def unrevoked(self) -> list[str]:
        return [lid for lid, st in self.license_status.items() if st != "revoked"]


def run_on_server(db_path: Path, run_id: str) -> RunOnServer:
    """Licenses of a run are those whose product code starts lc-<run id>- and whose
    metadata names the run (conformance/target/provisioning.py puts the run id in both)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT l.id, l.status, l.metadata FROM licenses l JOIN products p ON p.id = l.product_id"
            " WHERE p.code LIKE ?",
            (f"lc-{run_id}-%",),
        ).fetchall()
        for lid, _status, meta in rows:
            assert json.loads(meta or "{}").get("leasecheck_run_id") == run_id, lid
        ids = [r[0] for r in rows]
        live = []
        if ids:
            marks = ",".join("?" * len(ids))
            live = db.execute(
                f"SELECT license_id, coalesce(end_reason, '') FROM leases WHERE license_id IN ({marks})"
                " AND ended_at IS NULL AND expires_at > ?",
                (*ids, time.time()),
            ).fetchall()
    finally:
        db.close()
    return RunOnServer({r[0]: r[1] for r in rows}, live)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(minute_seconds=MINUTE_SECONDS) as srv:
        yield srv


#: The injected fault for the diff tests (leasecheck/gallery/faults/status.py): suspended
#: licenses can still check out, which breaks STAT-01 and nothing else.
FAULT = "suspended-still-checks-out"


@dataclass
class StatusRuns:
    """Two real runs of the status area: against a correct server, then against one
    with FAULT, the second with `--baseline` (the first) and an expected-failures file."""

    good: Path  # report dir
    faulty: Path
    good_proc: subprocess.CompletedProcess[str]
    faulty_proc: subprocess.CompletedProcess[str]
    tokens: tuple[str, ...]  # management tokens of both servers: must never reach a report


def _fault_available() -> bool:
    proc = subprocess.run([*LEASECHECK, "serve", "--list-faults"], capture_output=True, text=True, timeout=60)
    return proc.returncode == 0 and FAULT in proc.stdout


@pytest.fixture(scope="session")
def status_runs(tmp_path_factory: pytest.TempPathFactory) -> StatusRuns:
    if not _fault_available():
        pytest.skip(f"this reference server has no --fault {FAULT}")
    root = tmp_path_factory.mktemp("status-runs")
    state = root / "state"
    good, faulty = root / "good", root / "faulty"
    with ReferenceServer(minute_seconds=MINUTE_SECONDS) as srv:
        good_proc = run_cli(
            *conformance_args(srv, good, new_run_id("good"), "status"),
            env=cli_env(state, LEASECHECK_MANAGEMENT_TOKEN=srv.management_token),
        )
        assert good_proc.returncode == 0, good_proc.stdout[-3000:] + good_proc.stderr[-2000:]
        token_good = srv.management_token
    expected = root / "expected-failures.yaml"
    expected.write_text(
        "- {id: STAT-01, reason: 'fixed in the next release', expires: 2001-01-01}\n"
        "- {id: STAT-02, reason: 'was flaky last month'}\n"
    )
    with process.server(fault=FAULT, minute_seconds=MINUTE_SECONDS) as srv:
        proc = run_cli(
            *conformance_args(srv, faulty, new_run_id("faulty"), "status"),
            "--baseline",
            str(good / "results.json"),
            "--expected-failures",
            str(expected),
            env=cli_env(state, LEASECHECK_MANAGEMENT_TOKEN=srv.management_token),
        )
        token_faulty = srv.management_token
    return StatusRuns(good, faulty, good_proc, proc, (token_good, token_faulty))
