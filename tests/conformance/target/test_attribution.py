"""attribution.py: an answer is noted under the scenario whose thread opened its
connection, in whichever thread it arrives (a race's contenders)."""

from __future__ import annotations

import threading

from leasecheck.conformance.target import working, working_for
from leasecheck.conformance.target.transport import Transport
from leasecheck.core.client import Exchange
from leasecheck.core.server_process import ReferenceServer


def test_working_sets_and_restores_this_threads_scenario() -> None:
    assert working_for() is None
    with working("a"):
        assert working_for() == "a"
        with working(None):  # None leaves it as it was
            assert working_for() == "a"
        with working("b"):
            assert working_for() == "b"
        assert working_for() == "a"
    assert working_for() is None


def test_an_answer_is_noted_under_the_scenario_that_opened_the_connection(server: ReferenceServer) -> None:
    assert server.base_url is not None
    t = Transport(server.base_url, request_timeout=5.0, max_rps=None, rate_limit_budget=30.0)
    seen: list[str | None] = []

    def note(ex: Exchange) -> None:
        seen.append(working_for())

    t.observers.append(note)
    with working("scenarios/test_x.py::test_race"):
        lent = t.new_http()  # opened by the scenario's thread, lent to a contender below
    shared = t.new_http()  # opened by no scenario: its answers go to the sending thread's

    def contender() -> None:
        lent.request("GET", "/health")
        with working("scenarios/test_y.py::test_other"):
            shared.request("GET", "/health")
        shared.request("GET", "/health")

    th = threading.Thread(target=contender)
    th.start()
    th.join()
    t.close()
    assert seen == ["scenarios/test_x.py::test_race", "scenarios/test_y.py::test_other", None]
