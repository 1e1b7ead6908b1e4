"""delay.py: `--answer-delay-ms` holds every answer, half before the handler and half
after, and changes nothing else; a bad value is one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from leasecheck.core.server_process import ReferenceServer
from leasecheck.core.timeutil import parse_rfc3339

DELAY_MS = 200


def test_every_answer_waits_and_the_timestamp_sits_mid_way() -> None:
    with ReferenceServer(minute_seconds=1.0, extra_args=["--answer-delay-ms", str(DELAY_MS)]) as srv:
        assert srv.base_url is not None
        with httpx.Client(base_url=srv.base_url) as c:
            for _ in range(3):
                sent = time.time()
                r = c.get("/health")
                received = time.time()
                assert r.status_code == 200 and r.json()["data"]["status"] == "ok"
                assert received - sent >= DELAY_MS / 1000
                stamp = parse_rfc3339(r.json()["meta"]["timestamp"])
                # Half the delay passed before the handler stamped it, half after (clocks agree here).
                assert sent + DELAY_MS / 2000 - 0.05 <= stamp <= received - DELAY_MS / 2000 + 0.05


def test_a_negative_delay_is_refused_in_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "leasecheck.reference_server", "serve", "--answer-delay-ms", "-1", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "leasecheck: error: --answer-delay-ms must be from 0 (off) to 3600000, not -1"
