"""provisioning.py: a license of the scenario's own, made through management or taken
from an inventory; NotRunnable, with the reason, when neither can give it."""

from __future__ import annotations

import json
import sqlite3

import pytest

from leasecheck.conformance.target.inventory import Inventory, InventoryLicense
from leasecheck.conformance.target.leases import LeaseTracker
from leasecheck.conformance.target.provisioning import NotRunnable, Provisioning
from leasecheck.core.client import LeaseClient, Management
from leasecheck.core.server_process import ReferenceServer

from .conftest import make_license


def test_management_makes_a_fresh_license_tagged_with_the_run(server: ReferenceServer, management: Management) -> None:
    tracker = LeaseTracker()
    p = Provisioning("prov-run", management=management, inventory=None, tracker=tracker)
    f = p.license(seats=3, timeout_minutes=2, purpose="probe")
    assert (f.seats, f.timeout_minutes, f.license_type, f.features) == (3, 2, "subscription", [])
    assert f.name == f"probe:{f.license_id}" and f.license_key not in f.name
    assert tracker.created() == [f.license_id] and not p.busy
    db = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    try:
        code, meta = db.execute(
            "SELECT p.code, l.metadata FROM licenses l JOIN products p ON p.id = l.product_id WHERE l.id = ?",
            (f.license_id,),
        ).fetchone()
    finally:
        db.close()
    assert code.startswith("lc-prov-run-")  # what a run leaves behind can be told apart
    assert json.loads(meta) == {"leasecheck_run_id": "prov-run", "purpose": "probe"}
    assert LeaseClient(management.http, f.license_key).checkout().ok
    p.set_status(f, "suspend")
    assert not LeaseClient(management.http, f.license_key).checkout().ok


def test_an_inventory_gives_each_matching_license_once(management: Management) -> None:
    lic_id, key = make_license(management, seats=2, timeout_minutes=3)
    inventory = Inventory(
        [
            InventoryLicense(
                key, lic_id, "two-seats", max_floating_users=2, floating_timeout_minutes=3, license_type=None
            )
        ]
    )
    tracker = LeaseTracker()
    p = Provisioning("inv-run", management=None, inventory=inventory, tracker=tracker)
    f = p.license(seats=2, timeout_minutes=1)
    assert (f.license_id, f.license_key, f.timeout_minutes, f.name) == (lic_id, key, 3, "inventory:two-seats")
    assert tracker.created() == []  # not the run's: never revoked
    with pytest.raises(NotRunnable, match="no unused license with max_floating_users=2"):
        p.license(seats=2, timeout_minutes=1)
    with pytest.raises(NotRunnable, match=r"metadata\.features"):
        p.license(seats=2, features=[{"key": "f"}])
    with pytest.raises(NotRunnable, match="needs management access to suspend"):
        p.set_status(f, "suspend")


def test_without_management_or_inventory_nothing_runs() -> None:
    p = Provisioning("none", management=None, inventory=None, tracker=LeaseTracker())
    with pytest.raises(NotRunnable, match="neither a management token nor an inventory"):
        p.license()
