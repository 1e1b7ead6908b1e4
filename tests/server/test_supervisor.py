"""`--workers N`: a `kill -9` of the main process takes every worker with it,
and a new server can bind the same port at once."""

from __future__ import annotations

import os
import signal
import socket
import time

import psutil
import pytest

from leasecheck.core.client import Http
from leasecheck.core.server_process import ReferenceServer

pytestmark = pytest.mark.slow

DEADLINE_SECONDS = 15.0  # uvicorn's graceful shutdown is 5 s; the rest is slack on a busy machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody has reaped yet (it serves nothing)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _workers_of(pid: int, count: int) -> list[int]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        pids = [c.pid for c in psutil.Process(pid).children() if c.status() != psutil.STATUS_ZOMBIE]
        if len(pids) >= count:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"server {pid} did not show {count} worker processes")


def test_sigkill_of_the_main_process_takes_the_workers_with_it():
    port = _free_port()
    first = ReferenceServer(workers=2)
    first.port = port  # a fixed port: the restart below must get the same one
    with first:
        main = first.pid
        assert main is not None
        workers = _workers_of(main, 2)
        os.kill(main, signal.SIGKILL)  # the main process only: the workers are not signalled by us
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline and not all(_gone(p) for p in workers):
            time.sleep(0.05)
        alive = [p for p in workers if not _gone(p)]
        assert not alive, f"workers {alive} outlived their killed parent {main} by {DEADLINE_SECONDS:.0f} s"

        second = ReferenceServer(workers=2, db_path=first.db_path, management_token=first.management_token)
        second.port = port
        with second:
            assert second.port == port
            with Http(second.base_url) as http:
                assert http.request("GET", "/health").status == 200
