"""The concurrency scenarios judge their histories with the model checker: a
race fault from the gallery fails the requirement it breaks, and the
failure's message is the checker's witness (the requests, on a timeline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from leasecheck.gallery.process import server as gallery_server


def _run(fault: str, select: str, report: Path) -> dict[str, Any]:
    with gallery_server(fault=fault, minute_seconds=1.0) as srv:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
        env["LEASECHECK_MANAGEMENT_TOKEN"] = srv.management_token
        args = ["--target", str(srv.base_url), "--minute-seconds", "1", "-k", select, "--report-dir", str(report)]
        proc = subprocess.run(
            [sys.executable, "-m", "leasecheck", "conformance", *args],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    results = json.loads((report / "results.json").read_text())
    return {r["id"]: r for r in results["requirements"]}


@pytest.mark.parametrize(
    ("fault", "select", "rid", "kind", "role"),
    [
        # simultaneous checkouts all see a free seat: more leases held than seats
        ("race-check-then-insert", "test_racing_checkouts_never_over_allocate", "CAP-04", "over_grant", "held"),
        # a checkin that leaves the lease in place: a heartbeat sent after its 200 still succeeds
        (
            "checkin-does-not-free",
            "test_checkin_racing_heartbeats_and_checkouts",
            "LIFE-03",
            "ended_lease_accepted",
            "accepted",
        ),
    ],
)
def test_a_race_fault_fails_with_the_checkers_witness(
    tmp_path: Path, fault: str, select: str, rid: str, kind: str, role: str
):
    req = _run(fault, select, tmp_path)[rid]
    assert req["outcome"] == "failed"
    text = json.dumps(req)
    assert "model checker: " in text and f"{kind} on license" in text, text[:2000]
    assert f"[{role}]" in text and "#" in text  # witness lines: op index, role
