"""Acceptance test A: simultaneous checkouts against several worker processes
sharing one database never grant more seats than the policy has."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from leasecheck.core.client import Http, LeaseClient, Management, hardware_binding, new_key
from leasecheck.core.server_process import ReferenceServer

PROCESSES = 4
THREADS = 50
SEATS = 5

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workers_server() -> Iterator[ReferenceServer]:
    with ReferenceServer(minute_seconds=60.0, workers=2) as srv:
        yield srv


def _license(srv: ReferenceServer, seats: int) -> str:
    with Http(srv.base_url) as http:
        return Management(http, srv.management_token).floating_license(
            seats, 10, name="Race", license_type="perpetual"
        )[3]


def _racer(base_url: str, key: str, ready: Any, go: Any, out: Any) -> None:
    """One client process: THREADS connections, opened first, then one checkout each on `go`."""
    connected = threading.Barrier(THREADS + 1)
    results: list[tuple[int | None, str | None, str | None, str | None]] = []

    def one() -> None:
        with Http(base_url, timeout=60) as http:
            http.request("GET", "/health")  # connect before the start signal
            connected.wait()
            go.wait()
            ex = LeaseClient(http, key).checkout()
            results.append((ex.status, ex.error_code, ex.lease_token, ex.error))

    threads = [threading.Thread(target=one) for _ in range(THREADS)]
    for t in threads:
        t.start()
    connected.wait()
    ready.wait()
    for t in threads:
        t.join()
    out.put(results)


def test_racing_checkouts_from_many_processes_grant_exactly_the_seats(workers_server):
    key = _license(workers_server, SEATS)
    ctx = multiprocessing.get_context("fork")
    ready, go, out = ctx.Barrier(PROCESSES + 1), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(workers_server.base_url, key, ready, go, out)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    try:
        ready.wait(timeout=60)
        go.set()  # all PROCESSES x THREADS checkouts leave together
        results = [r for _ in procs for r in out.get(timeout=120)]
    finally:
        for p in procs:
            p.join(timeout=30)
    assert len(results) == PROCESSES * THREADS
    assert [r for r in results if r[3]] == [], "transport failures"
    statuses = Counter((status, code) for status, code, _, _ in results)
    assert statuses == {(200, None): SEATS, (409, "FLOATING_LIMIT_EXCEEDED"): PROCESSES * THREADS - SEATS}

    tokens = {token for status, _, token, _ in results if status == 200}
    assert len(tokens) == SEATS
    with Http(workers_server.base_url) as http:
        client = LeaseClient(http, key)
        assert all(client.heartbeat(t).status == 200 for t in tokens)
        assert client.checkout().status == 409


def test_concurrent_duplicates_have_one_effect(workers_server):
    key = _license(workers_server, 3)
    idem, body = new_key(), hardware_binding()
    go = threading.Event()
    results: list[Any] = []

    def one() -> None:
        with Http(workers_server.base_url, timeout=60) as http:
            http.request("GET", "/health")
            go.wait()
            results.append(LeaseClient(http, key).checkout(body, idempotency_key=idem))

    threads = [threading.Thread(target=one) for _ in range(30)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    assert {(ex.status, ex.error_code) for ex in results} <= {(200, None), (409, "IDEMPOTENCY_IN_PROGRESS")}
    assert len({ex.lease_token for ex in results if ex.status == 200}) == 1
    assert sum(ex.header("Idempotent-Replayed") is None for ex in results if ex.status == 200) == 1
    with Http(workers_server.base_url) as http:
        client = LeaseClient(http, key)
        assert client.checkout().status == 200 and client.checkout().status == 200  # two seats left
        assert client.checkout().status == 409
