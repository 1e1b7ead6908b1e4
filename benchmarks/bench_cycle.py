"""Benchmark: checkout → heartbeat → checkin cycles on the reference server,
against a trivial signed endpoint, in one run, with where the difference goes.

The ratio is what to read (absolute numbers move with the machine): it says
how much the lease logic, SQLite (with its fsync per commit: durability stays)
and idempotency cost over the bare starlette + uvicorn + Ed25519 signing path.
Three servers and one in-process run split the lease request's CPU into parts,
all measured in the same invocation:

- **trivial**: the signed handler below on bare starlette and uvicorn (the
  issue's baseline: no middleware, no access log);
- **stack**: the same handler mounted in the reference server's own app and
  served by its own runner (hardened h11 protocol, middleware, exception
  handlers, access log): what the server's HTTP stack costs before any lease
  work;
- **lease**: the reference server's checkout, heartbeat and checkin;
- **logic**: `Runtime.checkout/heartbeat/checkin` called in threads of one
  process, no HTTP at all, on a SQLite file on the same disk: the lease work
  itself (idempotency, seat count, statements, commits with their fsync).

From these it prints the lease request's CPU as bare stack + the reference
server's stack on top + the logic + the rest (handlers, body checks, the hop
to a store thread, envelopes), and a **ceiling**: the ratio a server would
reach whose every HTTP, handler and signing cost were the trivial request's,
with only the lease logic on top.

The load comes from a generator process of its own (this script re-run with
`--generate`: plain `http.client` keep-alive connections in threads, the same
code for every target), so the generator never shares an interpreter with
the server it measures. Besides requests per second it prints the server's
CPU per request (its process tree's user+sys), the figure to trust when
other work shares the machine. The targets are measured in alternating
rounds (trivial, stack, lease, logic; again; ...) and the median of the
rounds' ratios is printed, so a change in the machine's load between two long
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
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import psutil
from bench_license import bench_license, served_management  # beside this script

from leasecheck.core.client import CHECKIN, CHECKOUT, HEARTBEAT, hardware_binding
from leasecheck.core.server_process import ReferenceServer

#: The trivial signed handler, the same code in the bare app and in the reference server's.
ECHO = """
import time, uuid
from nacl.signing import SigningKey
from starlette.responses import JSONResponse
from starlette.routing import Route
from leasecheck.core.signing import sign
KEY = SigningKey.generate()
async def echo(request):
    await request.body()
    data = {"status": "active", "lease_expires_at": "2026-01-01T00:00:00.000Z", "n": time.time_ns()}
    return JSONResponse({"data": data, "signature": sign(data, KEY, "bench"),
                         "meta": {"request_id": uuid.uuid4().hex, "timestamp": "2026-01-01T00:00:00.000Z"}})
"""
TRIVIAL_APP = (
    ECHO
    + """
from starlette.applications import Starlette
app = Starlette(routes=[Route("/signed", echo, methods=["POST"])])
"""
)
STACK_APP = (
    ECHO
    + """
from leasecheck.reference_server.app import create_app as reference_app
def create_app():
    app = reference_app()
    app.router.routes.insert(0, Route("/signed", echo, methods=["POST"]))
    return app
"""
)
#: Runs STACK_APP with the reference server's own runner (argv: port, database, token).
STACK_SERVE = """
import sys
from pathlib import Path
from leasecheck.reference_server.runner import serve
from leasecheck.reference_server.settings import Settings
settings = Settings(db_path=Path(sys.argv[2]), management_token=sys.argv[3], port=int(sys.argv[1]))
sys.exit(serve(settings, token_generated=False, app="stack_app:create_app", env={"PYTHONPATH": "."}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(cmd: list[str], tmp: Path, port: int, name: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start a server process in `tmp` and wait until `port` accepts connections."""
    proc = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{name} server did not start")


def start_trivial(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    (tmp / "trivial_app.py").write_text(TRIVIAL_APP)
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "trivial_app:app", "--host", "127.0.0.1", "--port", str(port)]
    return start([*cmd, "--log-level", "warning", "--no-access-log"], tmp, port, "trivial")


def start_stack(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    (tmp / "stack_app.py").write_text(STACK_APP)
    port = free_port()
    cmd = [sys.executable, "-c", STACK_SERVE, str(port), str(tmp / "stack.db"), secrets.token_urlsafe(24)]
    return start(cmd, tmp, port, "stack")


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


def run_threads(clients: int, seconds: float, step: Callable[[int], int]) -> tuple[int, float]:
    """`clients` threads each calling `step(i)` (it returns how many requests it made) for
    `seconds`; the total count and the wall time. A step that raises stops the run with its
    reason (a thread that died would otherwise only lower the rate)."""
    stop = time.monotonic() + seconds
    counts = [0] * clients
    failures: list[str] = []

    def loop(i: int) -> None:
        try:
            while time.monotonic() < stop:
                counts[i] += step(i)
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"{len(failures)} of {clients} threads stopped, the first with {failures[0]}")
    return sum(counts), time.perf_counter() - t0


def generate(mode: str, url: str, key: str, clients: int, seconds: float) -> None:
    """Run `clients` connections for `seconds`; print {"requests", "errors", "seconds"} as JSON."""
    errors: list[str] = []
    conns = [Conn(url, key) for _ in range(clients)]

    def cycle(i: int) -> int:
        c = conns[i]
        status, doc = c.post(CHECKOUT, hardware_binding(), idempotent=True)
        if status != 200:
            errors.append(f"checkout {status}: {doc.get('error')}")
            return 1
        token = {"lease_token": doc["data"]["lease_token"]}
        c.post(HEARTBEAT, token)
        c.post(CHECKIN, token, idempotent=True)
        return 3

    def trivial(i: int) -> int:
        conns[i].post("/signed", {"lease_token": "x"})
        return 1

    requests, wall = run_threads(clients, seconds, cycle if mode == "cycle" else trivial)
    print(json.dumps({"requests": requests, "errors": errors[:3], "seconds": wall}))


def logic(db_path: str, key: str, clients: int, seconds: float) -> None:
    """The lease work alone: the reference server's `Runtime` in `clients` threads, no HTTP,
    over the SQLite file of a server that provisioned `key` and stopped; print
    {"requests", "errors", "seconds", "cpu"} as JSON."""
    from leasecheck.reference_server.app import create_app
    from leasecheck.reference_server.settings import Settings

    runtime = create_app(Settings(db_path=Path(db_path), management_token="unused")).state.api.runtime
    license_id = runtime.authenticate(key).id

    def cycle(i: int) -> int:
        answer = runtime.checkout(license_id, uuid.uuid4().hex, hardware_binding())
        token = answer.data["lease_token"]
        runtime.heartbeat(license_id, token)
        runtime.checkin(license_id, uuid.uuid4().hex, {"lease_token": token})
        return 3

    run_threads(clients, min(seconds, 0.5), cycle)  # warm-up
    cpu0 = time.process_time()  # every thread of this process
    requests, wall = run_threads(clients, seconds, cycle)
    cpu = time.process_time() - cpu0
    print(json.dumps({"requests": requests, "errors": [], "seconds": wall, "cpu": cpu}))


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
    """One generator run against one server (or, for "logic", one in-process run):
    requests/s and the CPU per request of what was measured."""
    cpu0 = tree_cpu(server_pid) if mode != "logic" else 0.0
    gen = [sys.executable, __file__, "--generate", mode, url, key, str(clients), str(seconds)]
    out = subprocess.run(gen, capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise SystemExit(f"the {mode} run exited {out.returncode}: {out.stderr.strip()[-1500:]}")
    result = json.loads(out.stdout)
    cpu = result["cpu"] if mode == "logic" else tree_cpu(server_pid) - cpu0
    result["rps"] = result["requests"] / result["seconds"]
    result["cpu_ms_per_request"] = 1000 * cpu / max(result["requests"], 1)
    return result


TARGETS = ("trivial", "stack", "lease", "logic", "logic-1")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="length of one measurement")
    ap.add_argument("--rounds", type=int, default=3, help="alternating trivial/stack/lease/logic measurements")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--generate", nargs=5, metavar=("MODE", "URL", "KEY", "CLIENTS", "SECONDS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate:
        mode, url, key, clients, seconds = args.generate
        if mode == "logic":
            logic(url, key, int(clients), float(seconds))
        else:
            generate(mode, url, key, int(clients), float(seconds))
        return

    rounds: list[dict[str, dict]] = []
    with tempfile.TemporaryDirectory() as tmp, ReferenceServer(minute_seconds=60.0) as srv:
        assert srv.base_url is not None and srv.pid is not None
        trivial, turl = start_trivial(Path(tmp))
        stack, surl = start_stack(Path(tmp))
        try:
            key = bench_license(served_management(srv), seats=args.clients * 2)
            # The logic runs' license is made the same way, by a server on their own file that then stops.
            logic_db = Path(tmp) / "logic.db"
            with ReferenceServer(db_path=logic_db, minute_seconds=60.0) as provisioner:
                logic_key = bench_license(served_management(provisioner), seats=args.clients * 2)
            plan = {
                "trivial": ("trivial", turl, key, trivial.pid, args.clients),
                "stack": ("trivial", surl, key, stack.pid, args.clients),
                "lease": ("cycle", srv.base_url, key, srv.pid, args.clients),
                "logic": ("logic", str(logic_db), logic_key, 0, args.clients),
                "logic-1": ("logic", str(logic_db), logic_key, 0, 1),  # no other thread to contend with
            }
            for mode, url, k, pid, clients in plan.values():  # the servers' warm-up (a logic run warms itself)
                if mode != "logic":
                    measure(mode, url, k, pid, clients, 1.0)
            for _ in range(args.rounds):
                rounds.append(
                    {
                        name: measure(mode, url, k, pid, clients, args.seconds)
                        for name, (mode, url, k, pid, clients) in plan.items()
                    }
                )
        finally:
            for proc in (trivial, stack):
                proc.terminate()
                proc.wait(10)
    report(rounds, args)


def report(rounds: list[dict[str, dict]], args: argparse.Namespace) -> None:
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, load {load()}")
    print(
        f"clients: {args.clients}, {args.rounds} rounds of {args.seconds:g} s per target, "
        "one uvicorn worker per server, generator in its own process"
    )
    for i, r in enumerate(rounds, 1):
        parts = "; ".join(
            f"{name} {r[name]['rps']:7.1f} req/s at {r[name]['cpu_ms_per_request']:.3f} ms" for name in TARGETS
        )
        print(f"round {i} (requests/s at CPU/request): {parts}")

    def median(f: Callable[[dict[str, dict]], float]) -> float:
        return statistics.median(f(r) for r in rounds)

    def cpu(r: dict[str, dict], name: str) -> float:
        return float(r[name]["cpu_ms_per_request"])

    rate = median(lambda r: r["lease"]["rps"] / r["trivial"]["rps"])
    print(
        f"ratio (median of {len(rounds)} rounds): per request the lease path runs at {rate:.2f}x the trivial rate; "
        f"server CPU per request {median(lambda r: cpu(r, 'lease') / cpu(r, 'trivial')):.2f}x the trivial's"
    )
    print(
        f"against the same handler on the reference server's own stack: {median(lambda r: r['lease']['rps'] / r['stack']['rps']):.2f}x "
        f"its rate, {median(lambda r: cpu(r, 'lease') / cpu(r, 'stack')):.2f}x its CPU per request; "
        f"that stack costs {median(lambda r: cpu(r, 'stack') / cpu(r, 'trivial')):.2f}x the bare one's"
    )
    bare = median(lambda r: cpu(r, "trivial"))
    extra = median(lambda r: cpu(r, "stack") - cpu(r, "trivial"))
    work = median(lambda r: cpu(r, "logic"))
    alone = median(lambda r: cpu(r, "logic-1"))
    rest = median(lambda r: cpu(r, "lease") - cpu(r, "stack") - cpu(r, "logic"))
    print(
        f"a lease request's CPU (medians, ms): bare stack {bare:.3f} + the reference server's stack on top {extra:.3f} "
        f"+ lease logic without HTTP {work:.3f} + the rest (handlers, body checks, store-thread hop, envelopes) {rest:.3f}"
    )
    print(
        f"the lease logic on one thread, nothing to contend with: {alone:.3f} ms "
        f"(against {work:.3f} ms on {args.clients} threads)"
    )
    ceiling = median(lambda r: cpu(r, "trivial") / (cpu(r, "trivial") + min(cpu(r, "logic"), cpu(r, "logic-1"))))
    print(
        "ceiling: a lease server whose HTTP, handler and signing cost were the trivial request's, with only the "
        f"lease logic (the cheaper of the two) on top, would reach {ceiling:.2f}x the trivial rate"
    )
    errors = [e for r in rounds for e in r["lease"]["errors"]]
    if errors:
        print(f"note: some cycles did not get a lease, e.g. {errors[0]}")


def load() -> str:
    """The 1-, 5- and 15-minute load averages: how much else the machine was doing."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
