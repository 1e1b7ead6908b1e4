"""Benchmark: checkout → heartbeat → checkin cycles per second on the reference
server, against a trivial signed endpoint on the same stack, in one run.

The ratio is what to read (absolute numbers move with the machine): it says
how much the lease logic, SQLite and idempotency cost over the bare
starlette + uvicorn + Ed25519 signing path.

    python benchmarks/bench_cycle.py [--seconds 10] [--clients 8]

Not a test: it prints numbers and never fails on speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from leasecheck.core.client import Http, LeaseClient, Management, hardware_binding
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
        return s.getsockname()[1]


def start_trivial(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    (tmp / "trivial_app.py").write_text(TRIVIAL_APP)
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "trivial_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            httpx.post(url + "/signed", content=b"{}", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("trivial app did not start")


def hammer(fn, clients: int, seconds: float) -> tuple[int, float]:
    """Run fn(i) in `clients` threads for `seconds`; count completed calls."""
    stop = time.time() + seconds
    counts = [0] * clients

    def loop(i: int) -> None:
        while time.time() < stop:
            fn(i)
            counts[i] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, ReferenceServer(minute_seconds=60.0) as srv:
        trivial, turl = start_trivial(Path(tmp))
        try:
            http = Http(srv.base_url)
            mgmt = Management(http, srv.management_token)
            prod = mgmt.create_product("bench", f"bench-{time.time_ns()}")
            pol = mgmt.create_policy(
                prod["id"],
                name="b",
                code="b",
                license_type="subscription",
                max_floating_users=args.clients * 2,
                floating_timeout_minutes=10,
            )
            _, key = mgmt.create_license(prod["id"], pol["id"])
            clients = [LeaseClient(Http(srv.base_url), key) for _ in range(args.clients)]
            errors = []

            def cycle(i: int) -> None:
                c = clients[i]
                out = c.checkout(hardware_binding())
                if out.status != 200:
                    errors.append(out.describe())
                    return
                c.heartbeat(out.lease_token)
                c.checkin(out.lease_token)

            tclients = [httpx.Client(base_url=turl) for _ in range(args.clients)]

            def trivial_call(i: int) -> None:
                tclients[i].post(
                    "/signed", content=b'{"lease_token":"x"}', headers={"Content-Type": "application/json"}
                )

            hammer(trivial_call, args.clients, 1.0)  # warm-up
            t_calls, t_secs = hammer(trivial_call, args.clients, args.seconds)
            c_calls, c_secs = hammer(cycle, args.clients, args.seconds)
        finally:
            trivial.terminate()
            trivial.wait(10)
    trivial_rps = t_calls / t_secs
    cycles = c_calls / c_secs
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"clients: {args.clients}, {args.seconds:.0f} s each, one uvicorn worker per server")
    print(f"trivial signed endpoint: {trivial_rps:8.1f} requests/s")
    print(f"lease cycles:            {cycles:8.1f} cycles/s ({cycles * 3:.1f} requests/s)")
    print(
        f"ratio: a cycle costs {trivial_rps / cycles:.2f} trivial requests; "
        f"per request the lease path runs at {cycles * 3 / trivial_rps:.2f}x the trivial rate"
    )
    if errors:
        print(f"note: {len(errors)} cycles did not get a lease, e.g. {errors[0]}")


if __name__ == "__main__":
    main()
