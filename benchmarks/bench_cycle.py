"""Benchmark: checkout → heartbeat → checkin cycles on the reference server,
against a trivial signed endpoint on the same stack, in one run.

The ratio is what to read (absolute numbers move with the machine): it says
how much the lease logic, SQLite (with its fsync per commit: durability stays)
and idempotency cost over the bare starlette + uvicorn + Ed25519 signing path.

The load comes from a generator process of its own (this script re-run with
`--generate`: plain `http.client` keep-alive connections in threads, the same
code for both targets), so the generator never shares an interpreter with
the server it measures. Besides requests per second it prints the server's
CPU per request (its process tree's user+sys), the figure to trust when
other work shares the machine. The two targets are measured in alternating
rounds (trivial, lease, trivial, lease, ...) and the median of the rounds'
ratios is printed, so a change in the machine's load between two long
measurements does not pass for a difference between the servers.

    python benchmarks/bench_cycle.py [--seconds 5] [--rounds 3] [--clients 8]

Not a test: it prints numbers and never fails on speed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psutil
from bench_license import bench_license  # beside this script

from leasecheck.core.client import CHECKIN, CHECKOUT, HEARTBEAT, hardware_binding
from leasecheck.core.server_process import ReferenceServer

TRIVIAL_APP = """
import time, uuid
from nacl.signing import SigningKey
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from leasecheck.core.signing import sign
KEY = SigningKey.generate()
async def echo(request):
    await request.body()
    data = {"status": "active", "lease_expires_at": "2026-01-01T00:00:00.000Z", "n": time.time_ns()}
    return JSONResponse({"data": data, "signature": sign(data, KEY, "bench"),
                         "meta": {"request_id": uuid.uuid4().hex, "timestamp": "2026-01-01T00:00:00.000Z"}})
app = Starlette(routes=[Route("/signed", echo, methods=["POST"])])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_trivial(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    (tmp / "trivial_app.py").write_text(TRIVIAL_APP)
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "trivial_app:app", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--log-level", "warning", "--no-access-log"],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("trivial app did not start")


# ---------------------------------------------------------------- the generator process


class Conn:
    """One keep-alive connection; `post` answers (status, parsed JSON body)."""

    def __init__(self, url: str, key: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        self.auth = f"License {key}"

    def post(self, path: str, body: dict[str, object], idempotent: bool = False) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "Authorization": self.auth}
        if idempotent:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        self.conn.request("POST", path, json.dumps(body), headers)
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read())


def generate(mode: str, url: str, key: str, clients: int, seconds: float) -> None:
    """Run `clients` threads for `seconds`; print {"requests", "errors", "seconds"} as JSON."""
    stop = time.monotonic() + seconds
    counts = [0] * clients
    errors: list[str] = []

    def cycle(c: Conn) -> int:
        status, doc = c.post(CHECKOUT, hardware_binding(), idempotent=True)
        if status != 200:
            errors.append(f"checkout {status}: {doc.get('error')}")
            return 1
        token = {"lease_token": doc["data"]["lease_token"]}
        c.post(HEARTBEAT, token)
        c.post(CHECKIN, token, idempotent=True)
        return 3

    def trivial(c: Conn) -> int:
        c.post("/signed", {"lease_token": "x"})
        return 1

    step = cycle if mode == "cycle" else trivial

    def loop(i: int) -> None:
        c = Conn(url, key)
        while time.monotonic() < stop:
            counts[i] += step(c)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"requests": sum(counts), "errors": errors[:3], "seconds": time.perf_counter() - t0}))


# ---------------------------------------------------------------- the measuring process


def tree_cpu(pid: int) -> float:
    """User+sys CPU seconds of a process and its children (uvicorn workers)."""
    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def measure(mode: str, url: str, key: str, server_pid: int, clients: int, seconds: float) -> dict:
    """One generator run against one server: requests/s and the server's CPU per request."""
    cpu0 = tree_cpu(server_pid)
    gen = [sys.executable, __file__, "--generate", mode, url, key, str(clients), str(seconds)]
    out = subprocess.run(gen, capture_output=True, text=True, check=True, timeout=seconds + 120)
    result = json.loads(out.stdout)
    server_cpu = tree_cpu(server_pid) - cpu0
    result["rps"] = result["requests"] / result["seconds"]
    result["cpu_ms_per_request"] = 1000 * server_cpu / max(result["requests"], 1)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="length of one measurement")
    ap.add_argument("--rounds", type=int, default=3, help="alternating trivial/lease measurements")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--generate", nargs=5, metavar=("MODE", "URL", "KEY", "CLIENTS", "SECONDS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate:
        mode, url, key, clients, seconds = args.generate
        generate(mode, url, key, int(clients), float(seconds))
        return

    rounds: list[tuple[dict, dict]] = []
    with tempfile.TemporaryDirectory() as tmp, ReferenceServer(minute_seconds=60.0) as srv:
        assert srv.base_url is not None and srv.pid is not None
        trivial, turl = start_trivial(Path(tmp))
        try:
            key = bench_license(srv, seats=args.clients * 2)
            measure("trivial", turl, key, trivial.pid, args.clients, 1.0)  # warm-up
            measure("cycle", srv.base_url, key, srv.pid, args.clients, 1.0)
            for _ in range(args.rounds):
                t = measure("trivial", turl, key, trivial.pid, args.clients, args.seconds)
                c = measure("cycle", srv.base_url, key, srv.pid, args.clients, args.seconds)
                rounds.append((t, c))
        finally:
            trivial.terminate()
            trivial.wait(10)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, load {load()}")
    print(
        f"clients: {args.clients}, {args.rounds} rounds of {args.seconds:g} s per target, "
        "one uvicorn worker per server, generator in its own process"
    )
    for i, (t, c) in enumerate(rounds, 1):
        print(
            f"round {i}: trivial {t['rps']:7.1f} req/s at {t['cpu_ms_per_request']:.2f} ms CPU/request; "
            f"lease {c['rps']:7.1f} req/s ({c['rps'] / 3:.1f} cycles/s) at {c['cpu_ms_per_request']:.2f} ms CPU/request"
        )
    rate = statistics.median(c["rps"] / t["rps"] for t, c in rounds)
    cpu = statistics.median(c["cpu_ms_per_request"] / t["cpu_ms_per_request"] for t, c in rounds)
    print(
        f"ratio (median of {len(rounds)} rounds): per request the lease path runs at {rate:.2f}x the trivial rate; "
        f"server CPU per request {cpu:.2f}x the trivial's"
    )
    errors = [e for _, c in rounds for e in c["errors"]]
    if errors:
        print(f"note: some cycles did not get a lease, e.g. {errors[0]}")


def load() -> str:
    """The 1-, 5- and 15-minute load averages: how much else the machine was doing."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
