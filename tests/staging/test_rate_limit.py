"""Acceptance 2, and the rate cap: a throttling target slows a run down but does
not fail it, and a run never sends faster than it was told to.

The throttling target is the reference server with `--throttle-every N`: every
Nth request answers 429 with Retry-After: 1 and a RATE_LIMITED envelope.
"""

from __future__ import annotations

import json
import re
import time
from email.utils import formatdate
from pathlib import Path

import pytest

from leasecheck.core.client import Http
from leasecheck.core.pacing import Backoff, Pacer, parse_retry_after
from leasecheck.core.server_process import ReferenceServer

from .conftest import MINUTE_SECONDS, cli_env, conformance_args, new_run_id, run_cli


def test_run_against_throttling_target_passes_and_reports_its_waits(state_dir: Path, tmp_path: Path):
    tmp_path = tmp_path / "report"
    with ReferenceServer(minute_seconds=MINUTE_SECONDS, extra_args=["--throttle-every", "8"]) as srv:
        proc = run_cli(
            *conformance_args(srv, tmp_path, new_run_id("thr"), "lifecycle", "status"),
            env=cli_env(state_dir, LEASECHECK_MANAGEMENT_TOKEN=srv.management_token),
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["outcome"] == "passed"
    limited = results["rate_limited"]
    assert limited["answers"] > 0 and limited["retried"] == limited["answers"] and limited["gave_up"] == 0
    assert limited["waited_seconds"] == pytest.approx(limited["answers"] * 1.0)  # Retry-After: 1 each
    assert re.search(r"answered 429 \d+ times; the run waited [\d.]+ s", proc.stdout)
    assert any("answered 429" in m for m in results["messages"])
    # The 429s were seen (coverage), and judged by nobody: ENV-04 allows them everywhere.
    rows = [r for r in results["coverage"]["operations"] if r["status"] == 429 and r["seen"]]
    assert sum(r["seen"] for r in rows) == limited["answers"]
    assert all(r["documented"] or r.get("note") for r in rows)
    html = (tmp_path / "report.html").read_text()
    assert "429 answers: " in html and f"waited {limited['waited_seconds']} s" in html


def test_http_waits_out_429_and_observers_see_only_the_answer():
    seen, throttled = [], []
    backoff = Backoff()
    with (
        ReferenceServer(minute_seconds=MINUTE_SECONDS, extra_args=["--throttle-every", "2"]) as srv,
        Http(srv.base_url, observers=[seen.append], backoff=backoff) as http,
    ):
        http.throttle_listeners.append(throttled.append)
        answers = [http.request("GET", "/health") for _ in range(6)]
    assert [a.status for a in answers] == [200] * 6
    assert all(ex.status == 200 for ex in seen) and len(seen) == 6
    assert throttled and all(ex.status == 429 and ex.error_code == "RATE_LIMITED" for ex in throttled)
    assert backoff.answers == len(throttled) == sum(a.throttled for a in answers)


def test_backoff_is_bounded_per_request_and_per_run():
    b = Backoff(max_retries=2, max_wait=5.0, budget_seconds=7.0)
    assert b.delay("1", 0) == 1.0
    assert b.delay("60", 1) == 5.0  # capped per wait
    assert b.delay("1", 2) is None  # retries exhausted for this request
    assert b.delay("2", 0) is None  # 6 s waited, 2 more would pass the 7 s budget
    assert b.delay(None, 0) == 1.0  # no Retry-After: 1, 2, 4 … s
    assert (b.answers, b.retried, b.gave_up, b.waited_seconds) == (5, 3, 2, 7.0)


def test_retry_after_accepts_seconds_and_http_dates():
    now = time.time()
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(formatdate(now + 10, usegmt=True), now) == pytest.approx(10, abs=1)
    assert parse_retry_after(formatdate(now - 10, usegmt=True), now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after("-1") is None


def test_pacer_holds_the_average_rate_across_threads():
    import threading

    pacer = Pacer(rate=200, burst=1)
    start = time.monotonic()
    threads = [threading.Thread(target=lambda: [pacer.acquire() for _ in range(20)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert elapsed >= (80 - 1) / 200 * 0.95  # 80 requests at 200/s, one free


def test_run_with_max_rps_stays_under_the_cap(state_dir: Path, tmp_path: Path):
    cap = 25.0  # well under what even a loaded machine sends, so the cap is met and waited on
    tmp_path = tmp_path / "report"
    with ReferenceServer(minute_seconds=MINUTE_SECONDS) as srv:
        before = _requests_served(srv)
        started = time.monotonic()
        proc = run_cli(
            *conformance_args(srv, tmp_path, new_run_id("rps"), "capacity"),
            "--max-rps",
            str(cap),
            env=cli_env(state_dir, LEASECHECK_MANAGEMENT_TOKEN=srv.management_token),
        )
        elapsed = time.monotonic() - started
        served = _requests_served(srv) - before - 1  # minus this scrape
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "at most 25 requests/s" in proc.stdout
    assert served > 2 * cap, "the run must be long enough for the cap to matter"
    assert served <= cap * elapsed + cap + 2, f"{served} requests in {elapsed:.1f} s with a cap of {cap}/s"
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["pacing"]["max_rps"] == cap and results["pacing"]["waited_seconds"] > 0
    # Races were paid for up front: still as wide as configured.
    assert all(r["simultaneous"] == 48 for r in results["concurrency"]["scenarios"])


def _requests_served(srv: ReferenceServer) -> int:
    """Every request the (single-worker) server answered, from its own /metrics."""
    with Http(str(srv.base_url)) as http:
        text = http.request("GET", "/metrics").response_body.decode()
    return sum(int(float(m)) for m in re.findall(r"^leasecheck_requests_total\{[^}]*\} (\S+)$", text, re.M))


def test_reduced_concurrency_is_stated_up_front_and_in_the_verdict(tmp_path: Path):
    proc = run_cli(
        "conformance",
        "--only",
        "capacity",
        "--concurrency",
        "6",
        "--report-dir",
        str(tmp_path),
        env=cli_env(tmp_path / "state"),
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    first = proc.stdout.splitlines()[0]
    assert "send up to 6 simultaneous requests (reduced from the default 48)" in first
    results = json.loads((tmp_path / "results.json").read_text())
    c = results["concurrency"]
    assert c == {**c, "configured": 6, "default": 48, "reduced": True}
    assert c["scenarios"] and all(s["simultaneous"] <= 6 and s["requests"] >= s["simultaneous"] for s in c["scenarios"])
    assert any(m.startswith("ran with reduced concurrency") for m in results["messages"])
    assert "reduced from the default 48" in (tmp_path / "report.html").read_text()
