"""`serve`: bad settings are refused in one line with exit 2; a generated
management token is printed once and nothing else secret is."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leasecheck.core.client import Http, Management

SERVE = [sys.executable, "-m", "leasecheck.reference_server", "serve"]


def _env_without_token() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "LEASECHECK_MANAGEMENT_TOKEN"}


def refuse(args: list[str], token: str | None = "t0ken") -> str:
    """The one error line of a refused `serve` (token None: the server would generate one)."""
    result = subprocess.run(
        SERVE + args,
        capture_output=True,
        text=True,
        timeout=30,
        env={**_env_without_token(), **({"LEASECHECK_MANAGEMENT_TOKEN": token} if token else {})},
    )
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("leasecheck: error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


def test_bad_numbers_are_refused(tmp_path: Path):
    db = ["--db", str(tmp_path / "x.db"), "--port", "0"]
    assert "--minute-seconds" in refuse(db + ["--minute-seconds", "-1"])
    assert "--minute-seconds" in refuse(db + ["--minute-seconds", "0"])
    assert "--minute-seconds" in refuse(db + ["--minute-seconds", "nan"])
    assert "--workers" in refuse(db + ["--workers", "0"])
    assert "--port" in refuse(db[:2] + ["--port", "70000"])


def test_missing_database_directory_is_refused(tmp_path: Path):
    line = refuse(["--db", str(tmp_path / "absent" / "x.db"), "--port", "0"])
    assert "does not exist" in line


def test_port_in_use_is_refused(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refuse(["--db", str(tmp_path / "x.db"), "--port", str(port)])
        assert f"cannot listen on 127.0.0.1:{port}" in line
        # A generated token was printed above the error (refuse: nothing on stdout), and
        # the database and key file were created for a server that never listened.
        assert f"cannot listen on 127.0.0.1:{port}" in refuse(
            ["--db", str(tmp_path / "x.db"), "--port", str(port)], None
        )
    assert not list(tmp_path.iterdir())


def test_readable_or_broken_key_file_is_refused(tmp_path: Path):
    key_file = tmp_path / "keys.json"
    key_file.write_text("{}")
    key_file.chmod(0o644)
    line = refuse(["--db", str(tmp_path / "x.db"), "--port", "0", "--key-file", str(key_file)])
    assert "chmod 600" in line
    key_file.chmod(0o600)
    line = refuse(["--db", str(tmp_path / "x.db"), "--port", "0", "--key-file", str(key_file)])
    assert "not a leasecheck key file" in line


def test_generated_token_is_printed_once_and_works(tmp_path: Path):
    out_path = tmp_path / "stdout.txt"
    with open(out_path, "wb") as out, open(tmp_path / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(
            SERVE + ["--port", "0", "--db", str(tmp_path / "x.db"), "--minute-seconds", "2"],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=_env_without_token(),
        )
    try:
        deadline = time.monotonic() + 20
        while "listening on" not in out_path.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
            time.sleep(0.02)
        lines = out_path.read_text().splitlines()
        token = re.fullmatch(r"leasecheck reference server management token \(generated, shown once\): (\S+)", lines[0])
        url = re.fullmatch(r"leasecheck reference server listening on (http://127\.0\.0\.1:\d+)", lines[1])
        assert token and url and len(lines) == 2, lines
        with Http(url.group(1)) as http:
            mgmt = Management(http, token.group(1))
            product = mgmt.create_product("Token", "token")
            policy = mgmt.create_policy(product["id"], name="p", code="p", license_type="trial")
            _, key = mgmt.create_license(product["id"], policy["id"])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    logs = out_path.read_text() + (tmp_path / "stderr.txt").read_text()
    assert logs.count(token.group(1)) == 1
    assert key not in logs
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit says why.
    assert proc.returncode in (0, -signal.SIGTERM)
    assert "Finished server process" in (tmp_path / "stderr.txt").read_text()


def test_main_cli_has_serve():
    pytest.importorskip("leasecheck.specs.export", reason="leasecheck/cli.py registers the spec commands too")
    result = subprocess.run(
        [sys.executable, "-m", "leasecheck.cli", "serve", "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    for option in ("--host", "--port", "--db", "--management-token", "--minute-seconds", "--workers", "--key-file"):
        assert option in result.stdout
