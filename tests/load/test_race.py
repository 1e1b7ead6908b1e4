"""Acceptance 2: an over-allocating server makes the seat-race profile exit
with the invariant-violation code (4), naming the instant and the leases."""

from __future__ import annotations

import re

from leasecheck.gallery import process

FAULT = "race-check-then-insert"


def _assert_violation_reported(run) -> None:  # type: ignore[no-untyped-def]
    assert run.proc.returncode == 4, run.explain()
    s = run.summary
    assert s["verdict"] == "invariant_violated"
    v = s["invariants"]["seat_violations"][0]
    assert v["capacity"] is not None and len(v["leases"]) > v["capacity"]
    assert v["instant_rfc3339"] and all(lease["lease"].startswith("llt_") for lease in v["leases"])
    # the console names the over-allocated instant and the leases
    instant = re.search(
        r"leases certainly held at once on a \d+-seat license, license \S+ "
        r"at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z):\n\s+(llt_\S+) acknowledged",
        run.proc.stdout,
    )
    assert instant, run.explain()
    assert instant.group(1) == v["instant_rfc3339"] or instant.group(1) in run.proc.stdout
    html = (run.out / "report.html").read_text()
    assert v["instant_rfc3339"] in html and v["leases"][0]["lease"] in html
    # judged by the model checker: the witness (the ops, on a timeline) is in the summary and the report
    assert v["witness"].startswith("over_grant on license") and "[held]" in v["witness"]
    assert "over_grant on license" in html and "[held]" in html


def test_racy_check_then_insert_is_caught(load_run):
    with process.server(fault=FAULT, minute_seconds=1.0, workers=2) as srv:
        run = load_run("seat-race", "--users", "40", "--duration", "5s", server=srv)
    _assert_violation_reported(run)
