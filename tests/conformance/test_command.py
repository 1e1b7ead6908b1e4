"""`leasecheck conformance` end to end: real runs, real reports, real exit codes."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from leasecheck.core.client import Http, Management
from leasecheck.core.server_process import ReferenceServer

LEASECHECK = [sys.executable, "-m", "leasecheck.cli"]


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, with no LEASECHECK_* settings but those given."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    full_env.update(env or {})
    return subprocess.run([*LEASECHECK, *args], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd)


@pytest.fixture(scope="module")
def bundled_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One run from a directory of its own (`work`, beside `reports`), with a cache of its own."""
    base = tmp_path_factory.mktemp("bundled")
    out, work, cache = base / "reports", base / "work", base / "cache"
    work.mkdir()
    env = {"XDG_CACHE_HOME": str(cache), "HYPOTHESIS_STORAGE_DIRECTORY": ""}
    return run("conformance", "--report-dir", str(out), env=env, cwd=work), out


def test_bundled_run_passes_and_writes_three_reports(bundled_run):
    proc, out = bundled_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert {"results.json", "junit.xml", "report.html"} <= {p.name for p in out.iterdir()}
    assert "PASSED:" in proc.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["outcome"] == "passed" and results["target"]["bundled"] is True
    by_id = {r["id"]: r for r in results["requirements"]}
    for rid, r in by_id.items():
        assert r["outcome"] in ("passed", "warning", "not_run"), (rid, r)
        if r["level"] == "MUST":
            assert r["outcome"] == "passed", f"{rid} should be proven against the reference server: {r}"
    assert results["leases_released_at_end"] >= 0


def test_a_run_leaves_nothing_in_its_working_directory(bundled_run):
    """hypothesis's files (the UTF-8 character table it computes once) go to leasecheck's
    cache, not to `.hypothesis/` wherever the run was started."""
    proc, out = bundled_run
    assert proc.returncode == 0
    work, cache = out.parent / "work", out.parent / "cache"
    assert list(work.iterdir()) == []
    assert (cache / "leasecheck" / "hypothesis" / "unicode_data").is_dir()


def test_bundled_run_reports_which_official_sdks_verify(bundled_run):
    """The reference server signs raw UTF-8 (the TypeScript/Ruby rule), and the suite puts
    non-ASCII text into signed data: the Python SDK's documented disagreement is a SIG-08
    warning, named in results.json and in the summary, never a failure."""
    proc, out = bundled_run
    results = json.loads((out / "results.json").read_text())
    sdks = {t["sdk"]: t for t in results["interop"]["sdks"]}
    assert sdks["typescript"]["ok"] and sdks["ruby"]["ok"] and sdks["typescript"]["verified"] > 10
    py = sdks["python"]
    assert 0 < py["failed"] == py["failed_non_ascii_only"] and py["verified"] > 0
    assert "the Python SDK cannot verify this; the TypeScript and Ruby SDKs can" in py["verdict"]
    by_id = {r["id"]: r for r in results["requirements"]}
    assert by_id["SIG-08"]["outcome"] == "warning" and by_id["SIG-07"]["outcome"] == "passed"
    assert "interop: Python SDK (licensekit-sdk): " in proc.stdout


def test_junit_has_one_case_per_requirement(bundled_run):
    _, out = bundled_run
    xml = (out / "junit.xml").read_text()
    results = json.loads((out / "results.json").read_text())
    assert xml.count("<testcase ") == len(results["requirements"])


def test_unreachable_target_exits_2_quickly():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connection refused
        t0 = time.monotonic()
        proc = run("conformance", "--target", f"http://127.0.0.1:{port}", "--management-token", "x" * 20)
    assert proc.returncode == 2
    assert time.monotonic() - t0 < 30
    assert "cannot reach" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--target", "ftp://example"], "scheme 'ftp' is not supported"),
        (["--target", "http://127.0.0.1:8000"], "needs --management-token"),
        (["--minute-seconds", "-1"], "--minute-seconds must be a finite number greater than 0"),
        (["--only", "nonsense"], "unknown area"),
        (["--inventory", "/nonexistent.json", "--target", "http://127.0.0.1:9"], "does not exist"),
    ],
)
def test_bad_settings_exit_2_with_one_line(args, needle):
    proc = run("conformance", *args)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_malformed_config_file_exits_2(tmp_path: Path):
    cfg = tmp_path / "lc.toml"
    cfg.write_text("[leasecheck\ntarget = ")
    proc = run("conformance", "--config", str(cfg))
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr


class _BadServer:
    """A TCP server on loopback that answers every request badly, or never."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            while not self.stop.is_set():
                if not conn.recv(65536):
                    return
                if self.mode == "silent":
                    continue
                if self.mode == "garbage":
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nContent-Type: application/json\r\n\r\n{garbage!"
                    )
                else:
                    body = b"Internal Server Error"
                    conn.sendall(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
        except OSError:
            return

    def close(self) -> None:
        self.stop.set()
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.mark.parametrize("mode", ["garbage", "500", "silent"])
def test_broken_targets_end_with_failures_not_a_crash(mode: str, tmp_path: Path):
    srv = _BadServer(mode)
    try:
        proc = run(
            "conformance",
            "--target",
            f"http://127.0.0.1:{srv.port}",
            "--management-token",
            "t" * 24,
            "--request-timeout",
            "1",
            "--report-dir",
            str(tmp_path),
            timeout=300,
        )
    finally:
        srv.close()
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["outcome"] == "failed" and results["counts"]["failed"] > 0


def test_no_secret_reaches_any_report(tmp_path: Path):
    """Against a server whose token and license keys we know (inventory mode
    and management mode), no report file contains any of them."""
    token = "mgmt-" + "s3cr3t" * 6
    with ReferenceServer(minute_seconds=1.0, management_token=token) as srv:
        mgmt = Management(Http(srv.base_url), token)
        keys = []
        inventory = []
        for seats in (1, 2, 3, 5, 8):
            _, _, lic, key = mgmt.floating_license(seats, 1, name=f"inv {seats}")
            keys.append(key)
            inventory.append(
                {
                    "name": f"seats-{seats}",
                    "license_id": lic["id"],
                    "license_key": key,
                    "max_floating_users": seats,
                    "floating_timeout_minutes": 1,
                }
            )
        inv = tmp_path / "inventory.json"
        inv.write_text(json.dumps(inventory))
        r_mgmt, r_inv = tmp_path / "mgmt", tmp_path / "inv"
        p1 = run(
            "conformance",
            "--target",
            srv.base_url,
            "--minute-seconds",
            "1",
            "--report-dir",
            str(r_mgmt),
            env={"LEASECHECK_MANAGEMENT_TOKEN": token},
        )
        p2 = run(
            "conformance",
            "--target",
            srv.base_url,
            "--minute-seconds",
            "1",
            "--inventory",
            str(inv),
            "--only",
            "capacity",
            "--only",
            "lifecycle",
            "--report-dir",
            str(r_inv),
        )
    assert p1.returncode == 0, p1.stdout[-3000:]
    assert p2.returncode in (0, 1), p2.stdout[-3000:]
    files = [p for p in [*r_mgmt.rglob("*"), *r_inv.rglob("*")] if p.is_file()]
    assert len(files) >= 6
    key_shape = re.compile(r"\b(lk|LK)[-_][A-Za-z0-9_\-]{16,}")
    for p in files:
        text = p.read_text(errors="replace")
        assert token not in text, p
        for k in keys:
            assert k not in text, p
        assert not key_shape.search(text), (p, key_shape.search(text))
        assert not re.search(r"llt_[A-Za-z0-9_\-]{16,}", text), p
    for out in (p1.stdout + p1.stderr, p2.stdout + p2.stderr):
        assert token not in out and not any(k in out for k in keys)
