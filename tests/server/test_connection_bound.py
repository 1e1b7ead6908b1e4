"""The bound on open connections (reference_server/connections.py): idle
connections make room for new ones, busy ones make the newcomer wait with a
503 envelope, and with the default 1,024 descriptors 1,100 idle connections
do not stop /health (the acceptance of issue 12)."""

from __future__ import annotations

import contextlib
import resource
import socket
import time
from collections.abc import Iterator

import pytest

from leasecheck.core.server_process import ReferenceServer

pytestmark = pytest.mark.slow

IDLE_CONNECTIONS = 1100
FD_LIMIT = 1024


@contextlib.contextmanager
def fd_soft_limit(limit: int) -> Iterator[None]:
    """This process's soft descriptor limit set to `limit` for the block (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < limit:
        pytest.skip(f"the hard descriptor limit is {hard}, below the {limit} this test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _is_closed(sock: socket.socket) -> bool:
    """True once the server has closed `sock` (EOF or reset); never blocks."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


@pytest.fixture
def bounded() -> Iterator[ReferenceServer]:
    with ReferenceServer(extra_args=["--max-connections", "4", "--header-timeout", "60"]) as srv:
        yield srv


def test_the_connection_idle_longest_makes_room(bounded, wire, waits):
    idle = [wire.connect(bounded.base_url) for _ in range(4)]
    try:
        assert wire.get(bounded.base_url).status == 200  # the fifth connection is served
        waits.until(lambda: _is_closed(idle[0]), timeout=5)
        assert not any(_is_closed(s) for s in idle[1:])
    finally:
        for s in idle:
            s.close()


def test_over_the_bound_with_no_idle_connection_a_newcomer_gets_a_503_envelope(bounded, wire, waits):
    busy = []
    try:
        for i in range(4):
            sock = wire.connect(bounded.base_url)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n")  # headers begun, never finished
            busy.append(sock)
            answer = wire.get(bounded.base_url)  # also: the server has read the bytes above
            if i < 3:
                assert answer.status == 200, (i, answer.raw[:300])
        assert (answer.status, wire.error_code(answer)) == (503, "TOO_MANY_CONNECTIONS"), answer.raw[:300]
        assert answer.headers["retry-after"] == "1"
        assert not any(_is_closed(s) for s in busy)  # nothing in progress was dropped to make room

        busy.pop(0).close()
        waits.until(lambda: wire.get(bounded.base_url).status == 200, timeout=10)
    finally:
        for s in busy:
            s.close()
    assert "refused a connection over the bound (503)" in bounded.log_text()


def test_1100_idle_connections_under_1024_descriptors_do_not_stop_health(wire):
    """Issue 12's acceptance: `serve` with default settings, `ulimit -n 1024`."""
    with fd_soft_limit(FD_LIMIT):
        srv = ReferenceServer().start()
    sockets: list[socket.socket] = []
    try:
        with fd_soft_limit(IDLE_CONNECTIONS + 512):
            for _ in range(IDLE_CONNECTIONS):
                sockets.append(wire.connect(srv.base_url))
            for probe in range(3):
                start = time.monotonic()
                answer = wire.get(srv.base_url, timeout=2.0)
                took = time.monotonic() - start
                assert answer.status == 200 and took < 2.0, (probe, took, answer.raw[:200])

            # A connection stalled mid-headers is closed (default header timeout), within 60 s.
            with wire.connect(srv.base_url) as stalled:
                start = time.monotonic()
                stalled.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Stall: ")
                answer = wire.parse(wire.read_to_close(stalled, 60.0))
                assert (answer.status, wire.error_code(answer)) == (408, "REQUEST_TIMEOUT")
                assert time.monotonic() - start < 60.0
    finally:
        for s in sockets:
            s.close()
        log = srv.log_text()
        srv.close()
    assert f"connections per worker (file-descriptor limit {FD_LIMIT})" in log
    assert "Too many open files" not in log and "Traceback" not in log, log[-3000:]
    assert len(log.splitlines()) < 100, f"{len(log.splitlines())} log lines"
