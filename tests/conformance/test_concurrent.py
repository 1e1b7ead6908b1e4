"""Scenarios run side by side (conformance/early.py): against a server that answers
after 150 ms, the requests of different scenarios are in flight at the same time,
and the verdict is the one a run one scenario at a time gives (every requirement of
the subset passes on the correct server).

Judged from the run's own exchanges (each one's send and receive instants and the
scenario it was noted under), never from wall-clock time; the wall time of the same
subset with and without the delay is printed, not asserted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leasecheck.conformance.plugin import state_of
from leasecheck.conformance.session import run_pytest
from leasecheck.conformance.settings import Settings
from leasecheck.core.client import Exchange
from leasecheck.core.server_process import ReferenceServer

DELAY_MS = 150
#: Areas whose scenarios own their licenses: all of them start early.
SUBSET = ("capacity", "checkin", "idempotency", "lifecycle", "auth", "status")


class Watch:
    """A plugin noting every exchange of the run: the scenario it was noted under
    (the one that caused it), and when it was sent and answered."""

    def __init__(self) -> None:
        self.seen: list[tuple[str | None, float, float]] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
        result = yield
        if fixturedef.argname == "target":
            st = state_of(request.config)

            def note(ex: Exchange) -> None:
                self.seen.append((st.current_test(), ex.sent_at, ex.received_at))

            result.transport.observers.append(note)
        return result


def most_at_once(seen: list[tuple[str | None, float, float]]) -> int:
    """The most distinct scenarios with a request in flight at one instant."""
    events = sorted([(s, 1, t) for t, s, _ in seen] + [(r, -1, t) for t, _, r in seen], key=lambda e: (e[0], e[1]))
    inflight: dict[str | None, int] = {}
    best = 0
    for _at, step, test in events:
        inflight[test] = inflight.get(test, 0) + step
        best = max(best, sum(1 for n in inflight.values() if n > 0))
    return best


def run_subset(srv: ReferenceServer, tmp: Path, name: str) -> tuple[int, Watch, float]:
    assert srv.base_url is not None
    settings = Settings(
        target=srv.base_url,
        management_token=srv.management_token,
        minute_seconds=1.0,
        only=SUBSET,
        report_dir=tmp / name,
        state_dir=tmp / "state",
    ).validated()
    watch = Watch()
    began = time.monotonic()
    code = run_pytest(settings, plugins=[watch])
    return code, watch, time.monotonic() - began


@pytest.fixture(scope="module")
def delayed() -> Iterator[ReferenceServer]:
    with ReferenceServer(minute_seconds=1.0, extra_args=["--answer-delay-ms", str(DELAY_MS)]) as srv:
        yield srv


@pytest.fixture(scope="module")
def near() -> Iterator[ReferenceServer]:
    with ReferenceServer(minute_seconds=1.0) as srv:
        yield srv


def test_scenarios_overlap_against_a_distant_server(
    delayed: ReferenceServer, near: ReferenceServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, watch, wall = run_subset(delayed, tmp_path, "delayed")
    assert code == 0
    answered = [s for s in watch.seen if s[0] is not None]
    assert answered and len(answered) == len(watch.seen), "every exchange is noted under the scenario that sent it"
    # The slowest exchange took at least the delay: the server was distant.
    assert max(r - t for _, t, r in watch.seen) >= DELAY_MS / 1000
    at_once = most_at_once(watch.seen)
    assert at_once >= 3, f"at most {at_once} scenario(s) had a request in flight at one instant"
    near_code, near_watch, near_wall = run_subset(near, tmp_path, "near")
    assert near_code == 0
    with capsys.disabled():
        print(
            f"\n{len(SUBSET)} areas, {len(watch.seen)} requests: {wall:.1f} s with {DELAY_MS} ms per answer, "
            f"{near_wall:.1f} s near ({wall / near_wall:.2f}x); up to {at_once} scenarios in flight at once "
            f"(near: {most_at_once(near_watch.seen)})"
        )
