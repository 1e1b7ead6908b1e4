"""start.py: the target reached and recorded before the first scenario."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from leasecheck.conformance.plugin import state_of
from leasecheck.conformance.results import stop_server
from leasecheck.conformance.session import ProvidedSettings, pytest_args
from leasecheck.conformance.settings import Settings
from leasecheck.conformance.start import StartFailed, launch_bundled, plan_lines, server_version, start_target
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


def test_the_bundled_server_launched_early_is_the_one_the_run_uses() -> None:
    """launch_bundled (at pytest_configure) starts the process and returns at once;
    start_target waits for that same process to be ready, it does not start another."""
    st = RunState(Settings.load({}, environ={}))
    launch_bundled(st)
    server = st.server
    assert server is not None and server.pid is not None and server.base_url is None  # not waited for yet
    try:
        launch_bundled(st)
        assert st.server is server  # launched once
        target = start_target(st)
        assert st.server is server and target.base_url == server.base_url
        assert target.keyring.kids()
        target.close()
    finally:
        stop_server(st)
    assert st.server is None and not server.running


def test_a_collection_only_session_launches_no_server() -> None:
    """`leasecheck plan` collects the scenarios (pytest --collect-only): no server starts."""
    seen: list[object] = []

    class Watch:
        @pytest.hookimpl(trylast=True)
        def pytest_collection_finish(self, session: pytest.Session) -> None:
            seen.append(state_of(session.config).server)

    args = [*pytest_args(keyword="test_zero_seats", terminal=False), "--collect-only"]
    pytest.main(args, plugins=[ProvidedSettings(Settings.load({}, environ={})), Watch()])
    assert seen == [None]
