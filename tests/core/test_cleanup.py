"""cleanup.py: checkins and revokes against a real server 100 ms away, `width` at a time,
each settled item written off in the ledger; judged from the exchanges' own send and
receive instants, never from wall-clock time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leasecheck.core import ledger as ledgers
from leasecheck.core.cleanup import check_in, cleanup_http, revoke
from leasecheck.core.client import Exchange, Http, LeaseClient, Management
from leasecheck.core.ledger import Ledger
from leasecheck.core.server_process import ReferenceServer

LICENSES = 6


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(minute_seconds=1.0, extra_args=["--answer-delay-ms", "100"]) as srv:
        yield srv


def _licenses(server: ReferenceServer, n: int) -> list[tuple[str, str]]:
    """`n` one-seat licenses with 30-minute leases: (id, key) each."""
    assert server.base_url is not None
    with Http(server.base_url) as http:
        m = Management(http, server.management_token)
        made = [m.floating_license(1, 30, name="cleanup test")[2:] for _ in range(n)]
    return [(lic["id"], key) for lic, key in made]


def most_in_flight(seen: list[Exchange]) -> int:
    events = sorted([(e.sent_at, 1) for e in seen] + [(e.received_at, -1) for e in seen])
    now = best = 0
    for _, step in events:
        now += step
        best = max(best, now)
    return best


@pytest.mark.parametrize("width", [1, 4])
def test_leases_and_licenses_are_given_back_width_at_a_time(server: ReferenceServer, tmp_path: Path, width: int):
    assert server.base_url is not None
    lics = _licenses(server, LICENSES)
    ledger = Ledger.create(tmp_path / "runs", "cleanup-test", {"target": server.base_url})
    leases = []
    with Http(server.base_url) as http:
        for lid, key in lics:
            ledger.license(lid, key, created=True)
            token = LeaseClient(http, key).checkout().lease_token
            assert token is not None
            ledger.lease(token, lid, key)
            leases.append((token, key, lid))
    seen: list[Exchange] = []
    with cleanup_http(server.base_url, timeout=5.0) as http:
        http.observers.append(seen.append)
        report = check_in(http, leases, ledger, width=width)
        checkins = list(seen)
        report.merge(revoke(http, [lid for lid, _ in lics], server.management_token, ledger, width=width))
    assert (report.leases_checked_in, report.licenses_revoked, report.complete) == (LICENSES, LICENSES, True)
    assert most_in_flight(checkins) == width
    assert most_in_flight(seen[len(checkins) :]) == width
    state = ledgers.read(ledger.path)  # every settled item written off
    assert state.held_leases() == [] and state.to_revoke() == []
