"""The real `leasecheck` command in a subprocess, and targets for it to (not) reach.

Bad input must be refused before the first request. The tests show it two
ways: against `silent_target` (a port bound by nobody who listens) a command
that sent anything would end in "cannot reach" instead of naming the input;
against `server` (a real reference server started here) the server's own
/metrics show what was, and was not, asked of it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from leasecheck.core.server_process import ReferenceServer

LEASECHECK = [sys.executable, "-m", "leasecheck.cli"]
#: The bundled server's token in these tests; a wrong one is derived from it.
TOKEN = "lc-cli-test-token-0123456789"
#: Mistakes in the flags conformance, doctor and load share, and the line each gets:
#: one table for every command, as one module (core/inputs.py) checks them all.
SHARED_MISTAKES = {
    "--target=http://256.1.1.1:80": "--target 'http://256.1.1.1:80': '256.1.1.1' is not a valid IPv4 address",
    "--target=ftp://127.0.0.1:21": "--target 'ftp://127.0.0.1:21': scheme 'ftp' is not supported",
    "--minute-seconds=inf": "--minute-seconds must be a finite number greater than 0, not inf",
    "--minute-seconds=nan": "--minute-seconds must be a finite number greater than 0, not nan",
}


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def one_error_line(self) -> str:
        """The single line a user's mistake prints (and nothing else on stderr)."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.output[-3000:]
        assert lines[0].startswith("leasecheck: error: "), lines[0]
        assert "Traceback" not in self.output and "internal error" not in self.output
        return lines[0]


def leasecheck(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None) -> Ran:
    """`leasecheck ARGS` with no LEASECHECK_* settings but those given (in `cwd`, if given)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    full_env.update(env or {})
    p = subprocess.run([*LEASECHECK, *args], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd)
    return Ran(p.returncode, p.stdout, p.stderr)


@pytest.fixture(scope="session")
def silent_target() -> Iterator[str]:
    """A URL where nothing answers: any request sent to it fails to connect."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(minute_seconds=1.0, management_token=TOKEN) as srv:
        yield srv


@pytest.fixture(scope="session")
def one_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report dir of one short real run on the bundled server (for diff and bundle)."""
    report = tmp_path_factory.mktemp("one-run") / "report"
    ran = leasecheck("conformance", "--only", "lifecycle", "--report-dir", str(report))
    assert ran.code == 0 and (report / "results.json").is_file(), ran.output[-2000:]
    return report
