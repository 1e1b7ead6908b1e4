"""`core/ledger.py`: where ledgers may live, and what a replayed one still owes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from leasecheck.core.ledger import Ledger, LedgerError, read, usable_state_dir


def test_a_usable_state_dir_is_made_private_beside_the_reports(tmp_path: Path) -> None:
    runs = usable_state_dir(tmp_path / "state", tmp_path / "reports")
    assert runs == tmp_path / "state" / "runs"
    assert stat.S_IMODE(runs.stat().st_mode) == 0o700


@pytest.mark.parametrize("inside", ["", "sub"])
def test_a_state_dir_among_the_reports_is_refused(tmp_path: Path, inside: str) -> None:
    """Ledgers hold license keys; report dirs are shared (CI artifacts, bundles)."""
    with pytest.raises(LedgerError, match="is inside the report dir"):
        usable_state_dir(tmp_path / inside if inside else tmp_path, tmp_path)
    assert not (tmp_path / "runs").exists()


def test_a_load_runs_ledger_owes_the_licenses_it_made(tmp_path: Path) -> None:
    """A load run records licenses only: revoking them ends every lease its users held."""
    ledger = Ledger.create(tmp_path, "r1", {"target": "http://127.0.0.1:1", "provisioning": "load seat-race"})
    ledger.license("lic_1", "key-1", created=True)
    ledger.license("lic_2", "key-2", created=True)
    ledger.revoked("lic_1")
    state = read(ledger.path)
    assert state.to_revoke() == ["lic_2"] and state.held_leases() == []
    assert state.header["provisioning"] == "load seat-race"
