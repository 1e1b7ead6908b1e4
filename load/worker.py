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

import socket
import subprocess
import sys
import time
from collections.abc import Callable

from leasecheck.core.redact import redact_text
from leasecheck.load.profiles.profile import Profile

#: How long a worker waits for its master to listen (workers may start first).
CONNECT_WAIT_SECONDS = 60.0


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
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        echo(redact_text(line.rstrip("\n")))
    code = proc.wait()
    if code in (0, 1):  # 1: some requests failed; the master's verdict says what that means
        echo("worker done: its history is with the master")
        return 0
    echo(f"locust worker exited with code {code}")
    return 5
