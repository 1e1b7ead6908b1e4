"""Benchmark: the load generator's own cost, leasecheck's seat-race user against
a plain locust `FastHttpUser`, in one run.

Both run as `python -m locust --headless` processes of their own, one after
the other, against the same bundled reference server, with the same users
for the same time:

- **plain**: a bare `FastHttpUser` looping checkout -> heartbeat -> checkin
  with the same headers and bodies, recording nothing;
- **seat-race**: `load/profiles/seat_race/locustfile.py` as `leasecheck load
  seat-race` runs it (self-provisioned, as under plain `locust -f`): every
  attempt turned into an `Exchange`, classified, recorded into the history the
  checker judges, latency into HdrHistograms, shards written at the end.

For each it prints requests/s and the locust process's CPU (user+sys, sampled
with psutil) per request over the steady part of the run (locust's own
per-second request counts, start-up and shutdown left out), and the ratio of
the two CPU figures: the number to read (requests/s moves with the server and
the machine). It also prints how many operations the seat-race shards hold
against locust's request count: recording must stay complete.

    python benchmarks/bench_generator.py [--seconds 10] [--users 100]

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from bench_license import bench_license  # beside this script

from leasecheck.core.server_process import ReferenceServer

#: Seconds of start-up (imports, provisioning, spawning) left out of the measured window.
WARMUP_SECONDS = 4.0
SAMPLE_SECONDS = 0.2
SEAT_RACE = Path(__file__).resolve().parent.parent / "load" / "profiles" / "seat_race" / "locustfile.py"

PLAIN_LOCUSTFILE = """
import json, os, uuid
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

RUNTIME = "/api/v1/license/floating"
KEY = os.environ["BENCH_LICENSE_KEY"]


class Plain(FastHttpUser):
    wait_time = constant(0)

    @task
    def cycle(self):
        auth = {"Authorization": "License " + KEY, "Content-Type": "application/json"}
        body = {"fingerprint": "fp-" + uuid.uuid4().hex, "hostname": "leasecheck-host", "os": "linux",
                "is_vm": False, "is_container": False, "app_version": "1.0.0"}
        with self.client.post(RUNTIME + "/checkout", data=json.dumps(body), catch_response=True,
                              headers={**auth, "Idempotency-Key": uuid.uuid4().hex}) as r:
            r.success()
            if r.status_code != 200:
                return
            token = json.dumps({"lease_token": json.loads(r.content)["data"]["lease_token"]})
        self.client.post(RUNTIME + "/heartbeat", data=token, headers=auth)
        self.client.post(RUNTIME + "/checkin", data=token, headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
"""


def request_count(stats_json: Path) -> int:
    """Every request locust counted in the run, from its final `--json-file` stats."""
    return sum(int(e["num_requests"]) for e in json.loads(stats_json.read_text(encoding="utf-8")))


def steady_window(history_csv: Path) -> tuple[float, int, float, int]:
    """(t0, requests by t0, t1, requests by t1) from locust's per-second history:
    from one second after the first answer to the last second before the stop,
    so start-up (imports, provisioning, spawning) and shutdown are left out."""
    rows = []
    with history_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                rows.append((float(row["Timestamp"]), int(row["Total Request Count"])))
    busy = [r for r in rows if r[1] > 0]
    if len(busy) < 4:
        raise SystemExit(f"too few seconds of traffic in {history_csv}; give more --seconds")
    (t0, n0), (t1, n1) = busy[1], busy[-2]
    return t0, n0, t1, n1


def cpu_at(samples: list[tuple[float, float]], t: float) -> float:
    """The process's CPU seconds at time t, interpolated between samples."""
    for (ta, ca), (tb, cb) in itertools.pairwise(samples):
        if ta <= t <= tb:
            return ca + (cb - ca) * (t - ta) / max(tb - ta, 1e-9)
    return samples[-1][1] if t > samples[-1][0] else samples[0][1]


def run_locust(
    locustfile: Path, host: str, out: Path, users: int, seconds: float, env: dict[str, str]
) -> dict[str, float]:
    """One headless locust process, its CPU sampled (psutil) against its own per-second request counts."""
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users), "--host", host]
    cmd += ["-r", str(users), "-t", f"{seconds + WARMUP_SECONDS:g}s", "--only-summary"]
    cmd += ["--csv", str(out / "locust"), "--csv-full-history", "--json-file", str(out / "stats")]
    samples: list[tuple[float, float]] = []
    with (out / "locust.log").open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                t = ps.cpu_times()
                samples.append((time.time(), t.user + t.system))
            time.sleep(SAMPLE_SECONDS)
    if proc.returncode not in (0, 1):  # 1: locust saw failures, which its counts still cover
        tail = (out / "locust.log").read_text("utf-8", "replace")[-2000:]
        raise SystemExit(f"locust exited {proc.returncode}:\n{tail}")
    t0, n0, t1, n1 = steady_window(out / "locust_stats_history.csv")
    requests, cpu = n1 - n0, cpu_at(samples, t1) - cpu_at(samples, t0)
    return {
        "requests": requests,
        "rps": requests / (t1 - t0),
        "cpu_share": cpu / (t1 - t0),
        "cpu_us_per_request": 1e6 * cpu / max(requests, 1),
        "exit": proc.returncode,
        "total": request_count(out / "stats.json"),
    }


def recorded_ops(shards: Path) -> int:
    return sum(json.loads(p.read_text(encoding="utf-8"))["ops"] for p in shards.glob("*.metrics.json"))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--users", type=int, default=100)
    args = ap.parse_args()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    with tempfile.TemporaryDirectory(prefix="leasecheck-bench-") as tmp, ReferenceServer(minute_seconds=1.0) as srv:
        assert srv.base_url is not None
        root = Path(tmp)
        key = bench_license(srv, seats=args.users * 2)
        plain_file = root / "plain_locustfile.py"
        plain_file.write_text(PLAIN_LOCUSTFILE, encoding="utf-8")
        (root / "plain").mkdir()
        (root / "race").mkdir()
        plain = run_locust(
            plain_file, srv.base_url, root / "plain", args.users, args.seconds, {**base_env, "BENCH_LICENSE_KEY": key}
        )
        shards = root / "race" / "shards"
        race_env = {
            **base_env,
            "LEASECHECK_TARGET": srv.base_url,
            "LEASECHECK_MANAGEMENT_TOKEN": srv.management_token,
            "LEASECHECK_LOAD_SHARDS": str(shards),
            "LEASECHECK_MINUTE_SECONDS": "1",
        }
        race = run_locust(SEAT_RACE, srv.base_url, root / "race", args.users, args.seconds, race_env)
        ops = recorded_ops(shards)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"target: bundled reference server (1 worker); {args.users} users, {args.seconds:g} s each, one process each")
    for name, r in (("plain FastHttpUser", plain), ("leasecheck seat-race", race)):
        print(
            f"{name:21s} {r['rps']:8.1f} requests/s at {100 * r['cpu_share']:3.0f} % of a core: "
            f"{r['cpu_us_per_request']:7.1f} us CPU/request (exit {r['exit']})"
        )
    print(
        f"recorded: {ops} operations in the seat-race history for {race['total']} requests locust counted"
        " (a request cancelled in flight at the stop is in the history, not in locust's count)"
    )
    print(f"ratio: seat-race CPU per request = {race['cpu_us_per_request'] / plain['cpu_us_per_request']:.2f}x plain's")


if __name__ == "__main__":
    main()
