"""plugin.py under plain pytest: `pytest -p leasecheck.conformance.plugin --pyargs
leasecheck.conformance.scenarios`, settings in LEASECHECK_* only, against a reference
server started by the test; the same verdict and reports as `leasecheck conformance`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from leasecheck.core.server_process import ReferenceServer


def test_plain_pytest_runs_an_area_and_writes_results(tmp_path: Path) -> None:
    reports, state = tmp_path / "reports", tmp_path / "state"
    with ReferenceServer(minute_seconds=1.0) as srv:
        assert srv.base_url is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
        env.update(
            LEASECHECK_TARGET=srv.base_url,
            LEASECHECK_MANAGEMENT_TOKEN=srv.management_token,
            LEASECHECK_MINUTE_SECONDS="1",
            LEASECHECK_REPORT_DIR=str(reports),
            LEASECHECK_STATE_DIR=str(state),
        )
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "leasecheck.conformance.plugin",
                "--pyargs",
                "leasecheck.conformance.scenarios",
                "-k",
                "lifecycle",
            ],
            cwd=tmp_path,  # no project configuration: the scenarios' own pytest.ini only
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "leasecheck verdict" in proc.stdout and "PASSED" in proc.stdout
    results = json.loads((reports / "results.json").read_text())
    assert results["outcome"] == "passed"
    assert results["target"]["url"] == srv.base_url and results["target"]["bundled"] is False
    assert results["tests"] and all("test_lifecycle.py" in t["nodeid"] for t in results["tests"])
    lifecycle = [r for r in results["requirements"] if r["area"] == "lifecycle"]
    assert lifecycle and all(r["outcome"] == "passed" for r in lifecycle if r["level"] == "MUST")
    assert results["cleanup"]["complete"] and results["cleanup"]["licenses_revoked"] >= 1
    assert not list(state.rglob("*.jsonl"))  # the run undid itself: its ledger is gone
    assert srv.management_token not in (reports / "results.json").read_text()
