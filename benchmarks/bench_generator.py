"""Benchmark: the load generator's own cost, leasecheck's seat-race user against
plain locust `FastHttpUser`s, in one run.

Each runs as a `python -m locust --headless` process of its own, one after
the other, against the same bundled reference server, with the same users
for the same time:

- **seat-race**: `load/profiles/seat_race/locustfile.py` as `leasecheck load
  seat-race` runs it (its config handed over in LEASECHECK_LOAD_CONFIG): every
  attempt turned into an `Exchange`, classified, recorded into the history the
  checker judges, latency into HdrHistograms, shards written at the end;
- **plain, same traffic**: a bare `FastHttpUser` playing the same race (the
  same licenses and ratios, rounds on a shared grid, a denied client retrying
  after up to `retry_jitter`, a winner heartbeating every third of its lease,
  checking in and out again) and recording nothing. It reads statuses itself
  as the seat-race user does, so a denial is not locust's error path: the
  cheapest plain user for this traffic. The ratio against it is what
  leasecheck adds to a request;
- **plain cycle, paced**: a bare `FastHttpUser` looping checkout -> heartbeat
  -> checkin, paced with locust's `constant_throughput` to the request rate
  the seat-race run reached (the issue's first baseline). A seat race is a
  different traffic shape: most of its requests are denials, each followed
  by a timer of its own, where the cycle sleeps once per three requests.

A generator's CPU per request carries its idle cost (locust's greenlet loop,
stats, timers), spread over however many requests it sent: compared at
different rates the figures say more about the rates than about the
generators. So the plain runs match the seat-race run's rate, by the same
traffic or by pacing, and the set is measured at the seat-race profile's own
retry jitter (denied clients retry at once: as fast as the server answers)
and a slower one (`--jitters`). For each run it prints requests/s, the locust
process's CPU (user+sys, sampled with psutil) per request over the steady
part of the run (locust's own per-second request counts, start-up and
shutdown left out), the server's and the whole machine's CPU, which of them
was the bottleneck, and the ratios of the CPU figures: the numbers to read.
It also prints how many operations the seat-race shards hold against
locust's request count: recording must stay complete.

The three runs alternate (seat-race, plain, cycle; again; ...) for `--rounds`
rounds per rate, and the median of the rounds' ratios is the figure: on a
shared VM one run's ratio moves by a third between runs, and alternating
keeps a change in the machine's load from passing for one between generators.

    python benchmarks/bench_generator.py [--seconds 10] [--users 100] [--jitters 0.05,1] [--rounds 3]

Not a test: it prints numbers and never fails on speed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from bench_license import bench_license, served_management  # beside this script

from leasecheck.core.server_process import ReferenceServer
from leasecheck.load.config import CONFIG_ENV
from leasecheck.load.profiles.seat_race import PROFILE
from leasecheck.load.provision import build_config
from leasecheck.load.runtime.plan import LEAD_SECONDS

#: Seconds of start-up (imports, provisioning, spawning) left out of the measured window.
WARMUP_SECONDS = 4.0
SAMPLE_SECONDS = 0.2
#: A process at this share of one core is taken to be the bottleneck (each is one Python thread).
SATURATED = 0.9
SEAT_RACE = Path(__file__).resolve().parent.parent / "load" / "profiles" / "seat_race" / "locustfile.py"
CYCLE_REQUESTS = 3  # the plain user's task: checkout, heartbeat, checkin

#: What both plain locustfiles share: locust itself, and from leasecheck only the paths and
#: the checkout body (constants, nothing on the request path).
PLAIN_PRELUDE = """
import json, os, random, time, uuid
import gevent
from locust import constant, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser
from leasecheck.core.client import CHECKIN, CHECKOUT, HEARTBEAT, hardware_binding
"""

PLAIN_LOCUSTFILE = (
    PLAIN_PRELUDE
    + """
KEY = os.environ["BENCH_LICENSE_KEY"]


class Plain(FastHttpUser):
    wait_time = constant_throughput(float(os.environ["BENCH_CYCLES_PER_USER"]))

    @task
    def cycle(self):
        auth = {"Authorization": "License " + KEY, "Content-Type": "application/json"}
        with self.client.post(CHECKOUT, data=json.dumps(hardware_binding()), catch_response=True,
                              headers={**auth, "Idempotency-Key": uuid.uuid4().hex}) as r:
            r.success()
            if r.status_code != 200:
                return
            token = json.dumps({"lease_token": json.loads(r.content)["data"]["lease_token"]})
        self.client.post(HEARTBEAT, data=token, headers=auth)
        self.client.post(CHECKIN, data=token, headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
"""
)

PLAIN_RACE_LOCUSTFILE = (
    PLAIN_PRELUDE
    + """
CONFIG = json.loads(open(os.environ["BENCH_RACE_CONFIG"], encoding="utf-8").read())
P, LICENSES, MINUTE = CONFIG["params"], CONFIG["licenses"], float(CONFIG["minute_seconds"])
USERS = iter(range(1 << 30))


def sleep_until(t):
    gevent.sleep(max(0.0, t - time.time()))


class PlainRace(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.client.client.valid_response_codes = frozenset(range(100, 600))  # a denial is no error
        i = next(USERS)
        lic = LICENSES[i % len(LICENSES)]
        self.auth = {"Authorization": "License " + lic["key"], "Content-Type": "application/json"}
        self.lease_seconds = lic["timeout_minutes"] * MINUTE
        self.binding = json.dumps(hardware_binding(f"plain-{i}"))

    def post(self, path, body, key):
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex} if key else self.auth
        with self.client.post(path, data=body, headers=headers, catch_response=True) as r:
            r.success()
            return r.status_code, r.content

    def checkout(self):
        status, content = self.post(CHECKOUT, self.binding, True)
        return json.dumps({"lease_token": json.loads(content)["data"]["lease_token"]}) if status == 200 else None

    @task
    def race(self):
        period = float(P["round_seconds"])
        start = -(-time.time() // period) * period
        sleep_until(start)
        round_end = start + period
        lease = None
        while lease is None and time.time() < round_end:
            lease = self.checkout()
            if lease is None:
                sleep_until(min(time.time() + random.uniform(0, float(P["retry_jitter"])), round_end))
        while lease is not None:
            until = time.time() + random.uniform(float(P["hold_min"]), float(P["hold_max"])) * period
            alive = True
            while alive:
                beat = time.time() + self.lease_seconds / 3
                if beat >= until:
                    sleep_until(until)
                    break
                sleep_until(beat)
                alive = not 400 <= self.post(HEARTBEAT, lease, False)[0] < 500
            if alive:
                self.post(CHECKIN, lease, True)
            lease = self.checkout() if time.time() < round_end else None
"""
)


def request_count(stats_json: Path) -> int:
    """Every request locust counted in the run, from its final `--json-file` stats."""
    return sum(int(e["num_requests"]) for e in json.loads(stats_json.read_text(encoding="utf-8")))


def request_mix(stats_json: Path) -> str:
    """Requests per endpoint over the whole run ("checkout 80 %, heartbeat 5 %, ..."), so a
    reader sees that runs compared as the same traffic sent the same kinds of request."""
    counts: dict[str, int] = {}
    for e in json.loads(stats_json.read_text(encoding="utf-8")):
        kind = next((k for k in ("checkout", "heartbeat", "checkin") if k in e["name"]), e["name"])
        counts[kind] = counts.get(kind, 0) + int(e["num_requests"])
    total = max(sum(counts.values()), 1)
    return ", ".join(f"{k} {100 * n / total:.0f} %" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def steady_window(history_csv: Path) -> tuple[float, int, float, int]:
    """(t0, requests by t0, t1, requests by t1) from locust's per-second history:
    from one second after the first answer to one second before the last, so
    start-up (imports, provisioning, spawning), the idle tail (a seat-race user
    stops at its plan's end, before locust's --run-time) and shutdown are left out."""
    rows = []
    with history_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                rows.append((float(row["Timestamp"]), int(row["Total Request Count"])))
    busy = [b for a, b in itertools.pairwise(rows) if b[1] > a[1]]
    if len(busy) >= 4:
        (t0, n0), (t1, n1) = busy[1], busy[-2]
        return t0, n0, t1, n1
    if len(busy) >= 2:
        # A short run on a loaded machine (start-up ate most of it): two or three busy
        # seconds still give a rate, untrimmed, so say so rather than fail the run.
        print(f"  note: only {len(busy)} busy seconds in {history_csv.parent.name}; the window is not trimmed")
        (t0, n0), (t1, n1) = busy[0], busy[-1]
        return t0, n0, t1, n1
    raise SystemExit(f"too few seconds of traffic in {history_csv}; give more --seconds")


def at(samples: list[tuple[float, float]], t: float) -> float:
    """A cumulative sample (CPU seconds) at time t, interpolated between samples."""
    for (ta, ca), (tb, cb) in itertools.pairwise(samples):
        if ta <= t <= tb:
            return ca + (cb - ca) * (t - ta) / max(tb - ta, 1e-9)
    return samples[-1][1] if t > samples[-1][0] else samples[0][1]


def tree_cpu(proc: psutil.Process) -> float:
    """CPU seconds of a process and its live children (the server's workers)."""
    total = 0.0
    for p in (proc, *proc.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine, all cores."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def run_locust(
    locustfile: Path, srv: ReferenceServer, out: Path, users: int, seconds: float, env: dict[str, str]
) -> dict[str, Any]:
    """One headless locust process, its CPU, the server's and the machine's sampled
    (psutil) against locust's own per-second request counts."""
    assert srv.base_url is not None and srv.pid is not None
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users)]
    cmd += ["--host", srv.base_url, "-r", str(users), "-t", f"{seconds + WARMUP_SECONDS:g}s", "--only-summary"]
    cmd += ["--csv", str(out / "locust"), "--csv-full-history", "--json-file", str(out / "stats")]
    server = psutil.Process(srv.pid)
    gen: list[tuple[float, float]] = []
    srv_cpu: list[tuple[float, float]] = []
    all_cpu: list[tuple[float, float]] = []
    with (out / "locust.log").open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            now = time.time()
            with contextlib.suppress(psutil.Error):
                t = ps.cpu_times()
                gen.append((now, t.user + t.system))
            srv_cpu.append((now, tree_cpu(server)))
            all_cpu.append((now, machine_cpu()))
            time.sleep(SAMPLE_SECONDS)
    if proc.returncode not in (0, 1):  # 1: locust saw failures, which its counts still cover
        tail = (out / "locust.log").read_text("utf-8", "replace")[-2000:]
        raise SystemExit(f"locust exited {proc.returncode}:\n{tail}")
    t0, n0, t1, n1 = steady_window(out / "locust_stats_history.csv")
    span, requests = t1 - t0, n1 - n0
    cpu = at(gen, t1) - at(gen, t0)
    return {
        "requests": requests,
        "rps": requests / span,
        "cpu_share": cpu / span,
        "server_share": (at(srv_cpu, t1) - at(srv_cpu, t0)) / span,
        "machine_share": (at(all_cpu, t1) - at(all_cpu, t0)) / span / (os.cpu_count() or 1),
        "cpu_us_per_request": 1e6 * cpu / max(requests, 1),
        "exit": proc.returncode,
        "total": request_count(out / "stats.json"),
        "mix": request_mix(out / "stats.json"),
    }


def bottleneck(r: dict[str, Any]) -> str:
    """What held the rate: a process at a whole core, every core busy, or nothing (paced)."""
    if r["cpu_share"] >= SATURATED:
        return "generator"
    if r["server_share"] >= SATURATED:
        return "server"
    if r["machine_share"] >= 0.95:
        return "machine (every core busy)"
    return "neither (paced or waiting)"


def recorded_ops(shards: Path) -> int:
    return sum(json.loads(p.read_text(encoding="utf-8"))["ops"] for p in shards.glob("*.metrics.json"))


def race_config(srv: ReferenceServer, root: Path, users: int, seconds: float, jitter: float) -> Path:
    """A seat-race run's config with `retry_jitter` set, its licenses freshly provisioned
    the way `leasecheck load` does (a run before may still hold leases on its own)."""
    assert srv.base_url is not None
    config = build_config(
        profile=PROFILE,
        target=srv.base_url,
        token=srv.management_token,
        users=users,
        duration=seconds + WARMUP_SECONDS - LEAD_SECONDS,
        minute_seconds=1.0,
        params={**PROFILE.defaults(), "retry_jitter": jitter},
        slos=[],
        shard_dir=str(root / "shards"),
    )
    return config.write_private(root / "config.json")


def race_run(srv: ReferenceServer, root: Path, users: int, seconds: float, jitter: float, env: dict[str, str]):
    """The seat-race locustfile as `leasecheck load seat-race` runs it; and the operations its shards hold."""
    conf = race_config(srv, root, users, seconds, jitter)
    r = run_locust(SEAT_RACE, srv, root, users, seconds, {**env, CONFIG_ENV: str(conf)})
    return r, recorded_ops(root / "shards")


def plain_race_run(
    srv: ReferenceServer, root: Path, plain_file: Path, users: int, seconds: float, jitter: float, env: dict[str, str]
) -> dict[str, Any]:
    """The same traffic from a bare FastHttpUser recording nothing, on licenses of its own."""
    conf = race_config(srv, root, users, seconds, jitter)
    return run_locust(plain_file, srv, root, users, seconds, {**env, "BENCH_RACE_CONFIG": str(conf)})


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"  {name:21s} {r['rps']:7.1f} req/s, generator {100 * r['cpu_share']:3.0f} % of a core "
        f"({r['cpu_us_per_request']:6.1f} us CPU/request), server {100 * r['server_share']:3.0f} %, "
        f"machine {100 * r['machine_share']:3.0f} %: bottleneck {bottleneck(r)} (exit {r['exit']})"
    )
    print(f"  {'':21s} requests: {r['mix']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--jitters", default="0.05,1", help="seat-race retry_jitter per rate, comma separated")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (race, plain, cycle) per rate")
    args = ap.parse_args()
    jitters = [float(j) for j in args.jitters.split(",")]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"target: bundled reference server (1 worker); {args.users} users, {args.seconds:g} s each, one process each, "
        f"{args.rounds} alternating rounds per rate"
    )
    medians: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="leasecheck-bench-") as tmp, ReferenceServer(minute_seconds=1.0) as srv:
        key = bench_license(served_management(srv), seats=args.users * 2)
        plain_file = Path(tmp) / "plain_locustfile.py"
        plain_file.write_text(PLAIN_LOCUSTFILE, encoding="utf-8")
        plain_race_file = Path(tmp) / "plain_race_locustfile.py"
        plain_race_file.write_text(PLAIN_RACE_LOCUSTFILE, encoding="utf-8")
        for i, jitter in enumerate(jitters):
            print(f"rate {i + 1}: seat-race retry_jitter={jitter:g}")
            ratios: list[tuple[float, float]] = []
            for n in range(args.rounds):
                root = Path(tmp) / f"rate{i}" / f"round{n}"
                ratios.append(one_round(srv, root, key, plain_file, plain_race_file, args, jitter, base_env))
                print(f"  round {n + 1}: {ratios[-1][0]:.2f}x the plain user's, {ratios[-1][1]:.2f}x the paced cycle's")
            vs_same = statistics.median(r[0] for r in ratios)
            vs_cycle = statistics.median(r[1] for r in ratios)
            medians.append((vs_same, vs_cycle))
            print(
                f"  ratio (median of {len(ratios)} rounds): seat-race CPU per request = {vs_same:.2f}x the plain "
                f"user's on the same traffic (what leasecheck adds), {vs_cycle:.2f}x the paced plain cycle's"
            )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("median ratios (same traffic / paced cycle): " + ", ".join(f"{a:.2f}x / {b:.2f}x" for a, b in medians))


def one_round(
    srv: ReferenceServer,
    root: Path,
    key: str,
    plain_file: Path,
    plain_race_file: Path,
    args: argparse.Namespace,
    jitter: float,
    base_env: dict[str, str],
) -> tuple[float, float]:
    """The seat-race run, then the two plain runs matched to it; prints them; the two ratios."""
    for d in ("race", "plain-race", "plain"):
        (root / d).mkdir(parents=True)
    race, ops = race_run(srv, root / "race", args.users, args.seconds, jitter, base_env)
    same = plain_race_run(srv, root / "plain-race", plain_race_file, args.users, args.seconds, jitter, base_env)
    pace = race["rps"] / CYCLE_REQUESTS / args.users
    plain_env = {**base_env, "BENCH_LICENSE_KEY": key, "BENCH_CYCLES_PER_USER": repr(pace)}
    plain = run_locust(plain_file, srv, root / "plain", args.users, args.seconds, plain_env)
    show("leasecheck seat-race", race)
    show("plain, same traffic", same)
    show("plain cycle, paced", plain)
    print(
        f"  {'':21s} recorded: {ops} operations in the seat-race history for {race['total']} requests locust"
        " counted (a request cancelled in flight at the stop is in the history, not in locust's count)"
    )
    cost = race["cpu_us_per_request"]
    return cost / same["cpu_us_per_request"], cost / plain["cpu_us_per_request"]


if __name__ == "__main__":
    main()
