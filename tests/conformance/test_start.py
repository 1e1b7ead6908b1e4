"""start.py: the target reached and recorded before the first scenario."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from leasecheck.conformance.settings import Settings
from leasecheck.conformance.start import StartFailed, plan_lines, server_version, start_target
from leasecheck.conformance.state import RunState
from leasecheck.core.server_process import ReferenceServer


@pytest.mark.parametrize(
    "configured,header,want",
    [
        ("abc123", "uvicorn", "abc123"),
        (None, "uvicorn", None),
        (None, "lk-server/2.4.1", "lk-server/2.4.1"),
        (None, None, None),
    ],
)
def test_what_the_target_runs(configured: str | None, header: str | None, want: str | None) -> None:
    assert server_version(configured, header) == want


def test_an_unreachable_target_fails_the_start_before_a_ledger_exists(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        settings = Settings.load({"target": url, "management_token": "t" * 24, "state_dir": tmp_path}, environ={})
        with pytest.raises(StartFailed, match="cannot reach"):
            start_target(RunState(settings))
    assert not list(tmp_path.rglob("*.jsonl"))


def test_a_target_is_started_once_with_its_ledger(tmp_path: Path) -> None:
    with ReferenceServer(minute_seconds=1.0) as srv:
        settings = Settings.load(
            {"target": srv.base_url, "management_token": srv.management_token, "state_dir": tmp_path}, environ={}
        )
        st = RunState(settings)
        target = start_target(st)
        assert start_target(st) is target and st.target is target and st.server is None
        assert st.server_header  # as /health answered
        assert target.tracker.ledger is not None and target.tracker.ledger.path.is_file()
        assert target.keyring.kids()  # keys fetched before the first scenario
        assert target.end_run().complete
        target.close()


def test_the_plan_says_how_gently_the_run_will_push() -> None:
    gentle = plan_lines(Settings(concurrency=8, max_rps=5.0))
    assert "up to 8 simultaneous requests (reduced from the default 48)" in gentle[0]
    assert "at most 5 requests/s on average" in gentle[1]
    assert "no cap" in plan_lines(Settings())[1]
