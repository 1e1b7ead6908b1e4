"""transport.py: the gate every request passes, and the observers every answer passes."""

from __future__ import annotations

import pytest

from leasecheck.conformance.target.transport import SILENCE_LIMIT, RunEnding, TargetStoppedAnswering, Transport
from leasecheck.core.client import Exchange, System
from leasecheck.core.server_process import ReferenceServer


def transport(base_url: str, max_rps: float | None = None) -> Transport:
    return Transport(base_url, request_timeout=5.0, max_rps=max_rps, rate_limit_budget=30.0)


def test_a_target_that_stops_answering_is_cut_off_after_six_silent_requests(refused_url: str) -> None:
    t = transport(refused_url)
    http = t.new_http()
    for _ in range(SILENCE_LIMIT):
        ex = http.request("GET", "/health")
        assert ex.error and ex.status is None
    with pytest.raises(TargetStoppedAnswering, match=f"did not answer {SILENCE_LIMIT} requests in a row"):
        http.request("GET", "/health")
    with pytest.raises(TargetStoppedAnswering):  # on every connection of the run
        t.new_http().request("GET", "/health")
    t.close()


def test_an_answer_resets_the_silence_count(server: ReferenceServer, refused_url: str) -> None:
    """Silence is counted per run, over every connection: one answer in between starts it over."""
    assert server.base_url is not None
    t = transport(refused_url)
    silent = t.new_http()
    for _ in range(SILENCE_LIMIT - 1):
        silent.request("GET", "/health")
    # An absolute URL leaves the base URL aside: the same run, reaching a server that answers.
    assert silent.request("GET", f"{server.base_url}/health").status == 200
    for _ in range(SILENCE_LIMIT - 1):
        silent.request("GET", "/health")
    assert silent.request("GET", "/health").error  # the sixth in a row still goes out
    t.close()


def test_a_run_that_is_ending_sends_nothing_new(server: ReferenceServer) -> None:
    assert server.base_url is not None
    t = transport(server.base_url)
    http = t.new_http()
    assert http.request("GET", "/health").status == 200
    t.refuse_new_requests()
    assert t.closing
    with pytest.raises(RunEnding):
        http.request("GET", "/health")
    assert t.inflight == 0
    t.close()


def test_every_answer_feeds_the_clock_then_the_observers(server: ReferenceServer) -> None:
    assert server.base_url is not None
    t = transport(server.base_url)
    seen: list[tuple[int, Exchange]] = []
    t.observers.append(lambda ex: seen.append((t.clock.samples, ex)))
    ex = System(t.new_http()).public_keys()
    assert ex.status == 200 and ex.json["meta"]["timestamp"]
    assert seen == [(1, ex)]  # the clock had the answer's meta.timestamp before the observer ran
    assert t.clock.bound() < 1.0
    t.close()


def test_a_rate_cap_is_paid_by_every_request_and_a_race_up_front(server: ReferenceServer) -> None:
    assert server.base_url is not None
    t = transport(server.base_url, max_rps=1000.0)
    assert t.pacer is not None
    http = t.new_http()
    for _ in range(3):
        http.request("GET", "/health")
    assert t.pacer.requests == 3
    permit = t.race_permit(5)
    assert permit is not None and t.pacer.requests == 8
    assert transport(server.base_url).race_permit(5) is None  # no cap, nothing to pay
    t.close()
