"""Accept errors (reference_server/event_loop.py): when descriptors run out,
stderr gets one line per interval with a count, not one traceback per
connection waiting, and the server serves again once descriptors are free."""

from __future__ import annotations

import socket

import pytest

from leasecheck.core.server_process import ReferenceServer

from .test_connection_bound import FD_LIMIT, IDLE_CONNECTIONS, fd_soft_limit

pytestmark = pytest.mark.slow


def test_running_out_of_descriptors_is_one_line_per_interval_not_a_flood(wire, waits):
    # A bound above what 1,024 descriptors hold (the operator's choice) lets
    # accept() itself fail with EMFILE; idle connections then time out (3 s).
    args = ["--max-connections", "5000", "--header-timeout", "3"]
    with fd_soft_limit(FD_LIMIT):
        srv = ReferenceServer(extra_args=args).start()
    sockets: list[socket.socket] = []
    try:
        with fd_soft_limit(IDLE_CONNECTIONS + 512):
            for _ in range(IDLE_CONNECTIONS):
                sockets.append(wire.connect(srv.base_url))
            waits.until(lambda: "Too many open files" in srv.log_text(), timeout=20)
            # Once the idle connections have timed out, descriptors are free and it serves again.
            waits.until(lambda: _health(wire, srv.base_url) == 200, timeout=60, interval=0.5)
        log = srv.log_text()
    finally:
        for s in sockets:
            s.close()
        srv.close()
    assert "above the" in log  # the startup line warns that the bound exceeds what the fd limit holds
    accept_lines = [line for line in log.splitlines() if "accept() failed" in line]
    assert accept_lines and "[Errno 24] Too many open files" in accept_lines[0], log[-3000:]
    assert len(accept_lines) <= 4, accept_lines  # the first, then at most one per 10 s
    assert "Traceback" not in log, log[-3000:]
    assert len(log.encode()) < 64 * 1024, f"{len(log.encode())} bytes of log"


def _health(wire, base_url: str) -> int:
    try:
        return wire.get(base_url, timeout=2.0).status
    except OSError:
        return 0
