"""The sdk area against servers that break signing or the envelope: the official
Python SDK's own verdict fails them, and passes the reference server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leasecheck.core.server_process import ReferenceServer
from leasecheck.gallery.process import server as gallery_server


def sdk_area(srv: ReferenceServer, report: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    env["LEASECHECK_MANAGEMENT_TOKEN"] = srv.management_token
    args = ["conformance", "--target", str(srv.base_url), "--minute-seconds", str(srv.minute_seconds)]
    subprocess.run(
        [sys.executable, "-m", "leasecheck", *args, "--only", "sdk", "--report-dir", str(report)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    results = json.loads((report / "results.json").read_text())
    return {r["id"]: r["outcome"] for r in results["requirements"] if r["area"] == "sdk"}


def test_the_reference_server_passes_the_sdk_area(tmp_path: Path):
    with ReferenceServer(minute_seconds=60.0) as srv:
        assert set(sdk_area(srv, tmp_path).values()) == {"passed"}


@pytest.mark.parametrize(
    ("fault", "failing"),
    [
        ("sign-sorted-keys", {"SDK-01", "SDK-02", "SDK-04"}),
        ("wrong-kid", {"SDK-01", "SDK-02", "SDK-04"}),
        ("replay-unsigned", {"SDK-02"}),
        ("error-not-enveloped", {"SDK-03"}),
    ],
)
def test_faults_that_break_signing_or_the_envelope_fail_it(tmp_path: Path, fault: str, failing: set[str]):
    with gallery_server(fault=fault, minute_seconds=60.0) as srv:
        outcomes = sdk_area(srv, tmp_path)
    assert {rid for rid, outcome in outcomes.items() if outcome == "failed"} == failing
