"""`leasecheck load PROFILE --worker --master-host HOST`: users for a master on another machine.

A worker provisions nothing and writes no report: the master ships it the
run plan (licenses, target, shared clock origin) in locust's spawn message
and receives its history as it goes (`runtime/stream.py`). It runs plain
`locust --worker` as a subprocess, for the same reasons the runner does,
with its output redacted onto stderr. Before starting it checks that the
master host resolves and, within `CONNECT_WAIT_SECONDS`, accepts a
connection, so a typo is a one-line exit 2 instead of a worker waiting
forever.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress

from leasecheck.core.lifetime import die_with_parent
from leasecheck.core.redact import redact_text
from leasecheck.load.profiles.profile import Profile

#: How long a worker waits for its master to listen (workers may start first).
CONNECT_WAIT_SECONDS = 60.0
#: How long locust's worker has to quit on SIGTERM before it is killed.
STOP_SECONDS = 10.0


class WorkerFailure(Exception):
    """The master cannot be reached: a user's mistake, exit 2."""


def wait_for_master(host: str, port: int, wait: float = CONNECT_WAIT_SECONDS) -> None:
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise WorkerFailure(f"--master-host {host!r} does not resolve: {exc.strerror or exc}") from None
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.create_connection((host, port), timeout=2.0):
                return
        except OSError as exc:
            if time.monotonic() >= deadline:
                raise WorkerFailure(
                    f"no leasecheck master answered at {host}:{port} within {wait:g} s ({exc.strerror or exc}); "
                    "start `leasecheck load PROFILE --master --expect-workers N` there first"
                ) from None
            time.sleep(0.2)


def run_worker(profile: Profile, master_host: str, master_port: int, echo: Callable[[str], None]) -> int:
    """Run until the master ends the run; 0 when locust ended normally, 5 otherwise."""
    wait_for_master(master_host, master_port)
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(profile.locustfile),
        "--worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
    ]
    echo(f"worker for the master at {master_host}:{master_port} ({profile.name}); the master writes the report")
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # our Ctrl-C is not its: it is stopped below, once
        preexec_fn=die_with_parent,  # a SIGKILLed leasecheck leaves no worker sending load
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            echo(redact_text(line.rstrip("\n")))
    except BaseException:  # SIGTERM or Ctrl-C (core/interrupts): stop locust's worker, then go
        _stop(proc)
        raise
    code = proc.wait()
    if code in (0, 1):  # 1: some requests failed; the master's verdict says what that means
        echo("worker done: its history is with the master")
        return 0
    echo(f"locust worker exited with code {code}")
    return 5


def _stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM locust's worker (it tells the master it quits), SIGKILL after STOP_SECONDS."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
