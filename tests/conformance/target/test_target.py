"""target.py: the facade wires the parts together, and ends a run however it ended."""

from __future__ import annotations

from pathlib import Path

import pytest

from leasecheck.conformance.target import RunEnding, Target
from leasecheck.core.client import Exchange
from leasecheck.core.envelope import Finding
from leasecheck.core.ledger import Ledger
from leasecheck.core.server_process import ReferenceServer

from .conftest import settings_for


def test_a_run_on_a_target_from_first_license_to_end_run(server: ReferenceServer, tmp_path: Path) -> None:
    assert server.base_url is not None
    s = settings_for(server, minute_seconds=1.0)
    ledger = Ledger.create(tmp_path / "runs", s.run_id, {"target": server.base_url})
    findings: list[tuple[Exchange, list[Finding]]] = []
    target = Target(
        s,
        server.base_url,
        management_token=server.management_token,
        on_finding=lambda ex, fs: findings.append((ex, fs)),
        ledger=ledger,
        current_test=lambda: "t::scenario",
    )
    target.refresh_keys()
    f = target.license(seats=2, timeout_minutes=3)
    assert target.lease_seconds(f) == 3.0
    out = target.client(f, target.new_http()).checkout()
    assert out.ok and target.tracker.held()[0][0] == out.lease_token
    target.keyring.verify(out.json)  # the published keys were fetched through the facade
    ex, fs = findings[-1]
    assert ex is out and fs and all(finding.ok for finding in fs)  # every answer inspected
    assert target.clock.samples > 0
    target.note_race(4, 8)
    assert target.races.to_json() == [{"test": "t::scenario", "simultaneous": 4, "requests": 8, "races": 1}]

    report = target.end_run()
    assert (report.leases_checked_in, report.licenses_revoked, report.complete) == (1, 1, True)
    assert not ledger.path.exists()
    with pytest.raises(RunEnding):
        target.client(f).checkout()
    target.close()
