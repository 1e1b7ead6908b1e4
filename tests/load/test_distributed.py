"""Issue 14: one verdict from a master and several workers, as separate processes on loopback.

Each worker is `leasecheck load PROFILE --worker --master-host 127.0.0.1`,
the master `leasecheck load PROFILE --master --expect-workers N`, exactly as
a user types them on several machines. Two workers' clocks are skewed
(+250 ms and -400 ms, `LEASECHECK_TEST_CLOCK_SKEW`): the judge must measure
and undo that from the server's `meta.timestamp`. The same shards judged
without alignment must show a false over-allocation (so the alignment is
both necessary and working); the race fault must still be caught; a worker
killed mid-run must leave a partial verdict that names it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from leasecheck.core.server_process import ReferenceServer
from leasecheck.gallery import process
from leasecheck.load.config import read_run_record
from leasecheck.load.verdict.judge import Facts, judge

from .conftest import LEASECHECK, MINUTE_SECONDS, LoadRun

SKEWS = (0.25, -0.4)
RACE = "race-check-then-insert"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    env.update(extra)
    return env


@dataclass
class Cluster:
    master: subprocess.Popen[str]
    workers: list[subprocess.Popen[str]]
    out: Path

    def finish(self, timeout: float = 300) -> LoadRun:
        stdout, stderr = self.master.communicate(timeout=timeout)
        for w in self.workers:
            if w.poll() is None:
                w.wait(timeout=60)
        return LoadRun(subprocess.CompletedProcess(self.master.args, self.master.returncode, stdout, stderr), self.out)

    def locust_pid(self, worker: int) -> int:
        """The locust process a worker command runs (its shard is tagged with this pid)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            kids = psutil.Process(self.workers[worker].pid).children()
            if kids:
                return int(kids[0].pid)
            time.sleep(0.05)
        raise AssertionError("the worker started no locust process")

    def progress(self) -> list[dict[str, Any]]:
        path = self.out / "shards" / "progress.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@contextmanager
def cluster(
    tmp_path: Path,
    srv: ReferenceServer,
    profile: str,
    *options: str,
    skews: tuple[float, ...] = SKEWS,
    expect: int | None = None,
) -> Iterator[Cluster]:
    port = str(_free_port())
    out = tmp_path / "report"
    expected = str(expect if expect is not None else len(skews))
    master = subprocess.Popen(
        [*LEASECHECK, "load", profile, "--master", "--expect-workers", expected, "--master-port", port]
        + ["--target", str(srv.base_url), "--minute-seconds", str(MINUTE_SECONDS), "--report-dir", str(out)]
        + list(options),
        env=_env({"LEASECHECK_MANAGEMENT_TOKEN": srv.management_token}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    workers = [
        subprocess.Popen(
            [*LEASECHECK, "load", profile, "--worker", "--master-host", "127.0.0.1", "--master-port", port],
            env=_env({"LEASECHECK_TEST_CLOCK_SKEW": str(skew)}),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        for skew in skews
    ]
    c = Cluster(master, workers, out)
    try:
        yield c
    finally:
        for p in [master, *workers]:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _workers(run: LoadRun) -> list[dict[str, Any]]:
    return [sh for sh in run.summary["merge"]["shards"] if sh["role"] == "worker"]


def test_skewed_workers_are_aligned_and_clean_on_the_reference_server(tmp_path, server):
    with cluster(tmp_path, server, "seat-race", "--users", "20", "--duration", "5s") as c:
        run = c.finish()
    run.assert_passed_or_generator_bound()
    s = run.summary
    workers = _workers(run)
    assert len(workers) == 2 and all(w["sent"] == w["received"] == w["ops"] > 0 for w in workers), workers
    assert s["merge"]["history_ops"] == sum(w["ops"] for w in workers)
    # each worker's measured offset is its injected skew, undone, within the bound it states
    clocks = s["clocks"]
    assert clocks["aligned"] is True and clocks["shared_clock"] is False  # started apart: measured, not assumed
    offsets = sorted(p["offset_ms"] for p in clocks["processes"])
    bounds = {p["offset_ms"]: p["bound_ms"] for p in clocks["processes"]}
    for want, got in zip(sorted(-1000 * k for k in SKEWS), offsets, strict=True):
        assert abs(got - want) <= bounds[got] + 1.0, (want, got, bounds)

    # the master provisioned: each creation carries the server's stamp, which places it on the aligned timeline
    licenses = read_run_record(run.out / "shards")["licenses"]
    assert licenses and all(len(lic["created"]) == 3 for lic in licenses), licenses

    # the very same shards, judged as if the workers' clocks agreed: a false over-allocation
    blind = judge(run.out / "shards", [], Facts(processes=2), align_clocks=False)
    assert blind.exit_code == 4 and blind.summary["invariants"]["seat_violations"], blind.summary["reasons"]
    assert any("clock alignment off" in n for n in blind.summary["notes"])


def test_race_fault_is_still_caught_across_skewed_workers(tmp_path):
    with (
        process.server(fault=RACE, minute_seconds=MINUTE_SECONDS, workers=2) as srv,
        cluster(tmp_path, srv, "seat-race", "--users", "40", "--duration", "5s") as c,
    ):
        run = c.finish()
    assert run.proc.returncode == 4, run.explain()
    assert run.summary["clocks"]["aligned"] is True
    assert run.summary["invariants"]["seat_violations"], run.summary["reasons"]


def test_a_worker_killed_mid_run_leaves_a_partial_verdict_naming_it(tmp_path, server):
    with cluster(tmp_path, server, "seat-race", "--users", "20", "--duration", "8s") as c:
        victim = c.locust_pid(1)
        # mid-run by the run's own clock: the master's progress says requests flowed for a while
        deadline = time.monotonic() + 120
        while not any(p["elapsed"] >= 2.0 and p["requests"] > 0 for p in c.progress()):
            assert time.monotonic() < deadline and c.master.poll() is None, "the run never got going"
            time.sleep(0.1)
        os.killpg(c.workers[1].pid, signal.SIGKILL)
        run = c.finish()
    s = run.summary
    assert run.proc.returncode in (4, 5), run.explain()
    lost = s["partial"]["lost_workers"]
    assert len(lost) == 1 and lost[0].endswith(f"-{victim}"), (lost, victim)
    reason = next(r for r in s["reasons"] if r.startswith("partial run"))
    assert lost[0] in reason and "disconnected" in reason, reason
    assert lost[0] in run.proc.stdout  # the console names it too
    by_tag = {w["process"]: w for w in _workers(run)}
    assert by_tag[lost[0]]["received"] > 0  # judged on what arrived before it died
    survivor = next(w for t, w in by_tag.items() if t != lost[0])
    assert survivor["sent"] == survivor["received"] > 0


def test_a_master_whose_workers_never_all_connect_says_so(tmp_path, server):
    """Two workers expected, one started: locust's master gives up after --worker-wait
    without running a user; the verdict says how many connected, not "no history"."""
    with cluster(tmp_path, server, "seat-race", "--worker-wait", "6", "--duration", "3s", skews=(0.0,), expect=2) as c:
        run = c.finish()
    assert run.proc.returncode == 5, run.explain()
    reason = run.summary["reasons"][0]
    assert "only 1 of the 2 expected workers connected" in reason, run.summary["reasons"]
    assert not any("wrote their history" in r for r in run.summary["reasons"]), run.summary["reasons"]
