"""`leasecheck load --master/--worker`: every wrong combination is one line and exit 2, before any request."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CASES = [
    (["--master"], "--master needs --expect-workers N"),
    (["--expect-workers", "2"], "--expect-workers goes with --master"),
    (["--master", "--expect-workers", "0"], "--expect-workers must be at least 1"),
    (["--master", "--expect-workers", "2", "--worker"], "--master and --worker exclude each other"),
    (["--worker"], "--worker needs --master-host HOST"),
    (["--master-host", "10.0.0.1"], "--master-host goes with --worker"),
    (["--worker", "--master-host", "http://10.0.0.1:5557"], "give a host name or an IP address, not a URL"),
    (["--worker", "--master-host", "m1", "--master-port", "70000"], "--master-port must be between 1 and 65535"),
    (["--master-port", "6000"], "--master-port goes with --master or --worker"),
    (["--master", "--expect-workers", "2", "--worker-wait", "inf"], "--worker-wait must be a finite number"),
    (["--worker", "--master-host", "m1", "--worker-wait", "5"], "--worker-wait goes with --master"),
    (["--master", "--expect-workers", "2", "--processes", "2"], "--processes starts workers on this machine"),
    (["--master", "--expect-workers", "2", "--judge", "."], "--judge judges shards written earlier"),
    (["--worker", "--master-host", "m1", "--users", "10"], "--users is the master's setting"),
    (["--worker", "--master-host", "m1", "--target", "http://x:1"], "--target is the master's setting"),
    (["--worker", "--master-host", "m1", "--slo", "p99<1s"], "--slo is the master's setting"),
    (["--worker", "--master-host", "no-such-host.invalid"], "--master-host 'no-such-host.invalid' does not resolve"),
]


@pytest.mark.parametrize("args, why", CASES)
def test_a_wrong_role_combination_is_one_line_and_exit_2(args, why):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    proc = subprocess.run(
        [sys.executable, "-m", "leasecheck.cli", "load", "seat-race", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and why in lines[0] and lines[0].startswith("leasecheck: error: "), proc.stderr
