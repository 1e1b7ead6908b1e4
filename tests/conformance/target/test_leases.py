"""leases.py: what the run holds (memory and ledger), and giving it all back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from leasecheck.conformance.target.leases import LeaseTracker, give_back
from leasecheck.core import ledger as ledgers
from leasecheck.core.cleanup import cleanup_http
from leasecheck.core.client import Http, LeaseClient, Management
from leasecheck.core.ledger import Ledger
from leasecheck.core.server_process import ReferenceServer

from .conftest import make_license


def new_ledger(tmp_path: Path, server: ReferenceServer) -> Ledger:
    return Ledger.create(tmp_path / "runs", "leases-test", {"target": server.base_url})


@dataclass
class Run:
    """A tracker with a ledger, knowing one license the run created and one from an inventory."""

    tracker: LeaseTracker
    ledger: Ledger
    ours: tuple[str, str]  # (id, key)
    theirs: tuple[str, str]


@pytest.fixture
def run(server: ReferenceServer, management: Management, tmp_path: Path) -> Run:
    ledger = new_ledger(tmp_path, server)
    r = Run(LeaseTracker(ledger), ledger, make_license(management), make_license(management))
    r.tracker.license(*r.ours, created=True)
    r.tracker.license(*r.theirs, created=False)
    return r


def test_a_lease_is_held_until_its_own_license_checks_it_in(server: ReferenceServer, run: Run) -> None:
    assert server.base_url is not None
    tracker, ledger, (a_id, a_key), (_, b_key) = run.tracker, run.ledger, run.ours, run.theirs
    with Http(server.base_url, observers=[tracker]) as http:
        out = LeaseClient(http, a_key).checkout()
        token = out.lease_token
        assert out.ok and token is not None
        assert tracker.held() == [(token, a_key, a_id)]
        stranger = LeaseClient(http, b_key).checkin(token)  # another license's checkin ends nothing
        assert not stranger.ok and tracker.held() == [(token, a_key, a_id)]
        assert LeaseClient(http, a_key).checkin(token).ok
    assert tracker.held() == []
    assert tracker.created() == [a_id]  # an inventory's license is used, never the run's
    state = ledgers.read(ledger.path)  # all of it on disk as it happened
    assert state.leases[token].ended and state.held_leases() == []
    assert state.to_revoke() == [a_id]
    ledger.close()


def test_give_back_checks_in_every_lease_and_revokes_only_what_the_run_created(
    server: ReferenceServer, run: Run
) -> None:
    assert server.base_url is not None
    tracker, ledger, (_, our_key), (_, their_key) = run.tracker, run.ledger, run.ours, run.theirs
    with Http(server.base_url, observers=[tracker]) as http:
        assert LeaseClient(http, our_key).checkout().ok
        assert LeaseClient(http, their_key).checkout().ok
    settled: list[bool] = []
    with cleanup_http(server.base_url, timeout=5.0) as http:
        report = give_back(
            tracker,
            http,
            management_token=server.management_token,
            revoke_licenses=True,
            settle=lambda: settled.append(True),
            width=2,
        )
        assert (report.leases_checked_in, report.licenses_revoked, report.complete) == (2, 1, True)
        assert settled == [True]
        state = ledgers.read(ledger.path)  # each step recorded: a cleanup cut short resumes from here
        assert state.held_leases() == [] and state.to_revoke() == []
        assert not LeaseClient(http, our_key).checkout().ok  # revoked
        assert LeaseClient(http, their_key).checkout().ok  # not the run's: left as it was
    tracker.close_ledger(complete=report.complete)
    assert not ledger.path.exists()  # nothing left to recover


def test_an_incomplete_cleanup_keeps_the_ledger(server: ReferenceServer, tmp_path: Path) -> None:
    ledger = new_ledger(tmp_path, server)
    LeaseTracker(ledger).close_ledger(complete=False)
    assert ledger.path.exists()
