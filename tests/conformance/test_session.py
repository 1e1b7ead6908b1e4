"""session.py: the pytest command line of a run. No stray warning, and the last line
a user reads is the verdict, not a count of tests that contradicts it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from leasecheck.conformance.session import pytest_args
from leasecheck.core.server_process import ReferenceServer
from leasecheck.gallery.process import server as gallery_server

LEASECHECK = [sys.executable, "-m", "leasecheck.cli"]
FAULT = "guessable-lease-tokens"  # LIFE-06 fails, the rest of lifecycle passes


def run_lifecycle(srv: ReferenceServer, tmp: Path, *more: str) -> subprocess.CompletedProcess[str]:
    """`leasecheck conformance --only lifecycle` against the fault server."""
    assert srv.base_url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    args = ["--target", srv.base_url, "--management-token", srv.management_token, "--minute-seconds", "1"]
    return subprocess.run(
        [*LEASECHECK, "conformance", *args, "--only", "lifecycle", *more]
        + ["--report-dir", str(tmp / "r"), "--state-dir", str(tmp / "s")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def fault_server() -> Iterator[ReferenceServer]:
    with gallery_server(fault=FAULT, minute_seconds=1.0) as srv:
        yield srv


def test_a_run_against_a_target_prints_no_assert_rewrite_warning(fault_server: ReferenceServer, tmp_path: Path) -> None:
    """The probe of a --target imports anyio before pytest starts; with third-party
    plugins autoloaded, pytest then warned that it could not rewrite anyio's plugin."""
    proc = run_lifecycle(fault_server, tmp_path)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "PytestAssertRewriteWarning" not in proc.stdout + proc.stderr
    assert "warnings summary" not in proc.stdout


def test_with_an_excused_failure_the_last_line_is_the_passing_verdict(
    fault_server: ReferenceServer, tmp_path: Path
) -> None:
    excused = tmp_path / "expected.yaml"
    excused.write_text("- id: LIFE-06\n  reason: tokens are being lengthened (ticket 12)\n")
    proc = run_lifecycle(fault_server, tmp_path, "--expected-failures", str(excused))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert "leasecheck PASSED" in last and "1 failed (1 excused)" in last, last
    # No closing count of tests ("1 failed, 1 passed in 2s") above or below it.
    assert not re.search(r"\b\d+ (passed|failed)\b.* in \d+(\.\d+)?s\b", proc.stdout), proc.stdout
    assert "XFAIL   LIFE-06" in proc.stdout


class Seen:
    """A plugin that notes which plugins the inner pytest registered."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def pytest_configure(self, config: pytest.Config) -> None:
        self.names = {name for name, _ in config.pluginmanager.list_name_plugin()}


def test_installed_plugins_are_not_autoloaded(tmp_path: Path) -> None:
    """Autoloading them cost about a third of a run's CPU: pytest rewrites the asserts
    of schemathesis and hypothesis, again on every run without a bytecode cache."""
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    autoload_off = [a for a in pytest_args() if a == "--disable-plugin-autoload"]
    assert autoload_off, pytest_args()
    seen = Seen()
    code = pytest.main([str(tmp_path), "-q", "-p", "no:cacheprovider", *autoload_off], plugins=[seen])
    assert code == 0
    # schemathesis and hypothesis register pytest11 entry points (installed with the suite)
    assert not {"schemathesis", "hypothesispytest"} & seen.names, seen.names
