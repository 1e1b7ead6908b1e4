"""The run's view of the state it reached, read from a real reference server's answers: what a
key reuse meets (a long key, its lease ended, a status change since) and the leases held
through a status change, the states the chooser tells apart."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest

from leasecheck.conformance.explore.choose import Chooser
from leasecheck.conformance.explore.execute import Run, provision
from leasecheck.conformance.explore.steps import Step
from leasecheck.conformance.settings import Settings
from leasecheck.conformance.target import Target
from leasecheck.core.history import History
from leasecheck.core.server_process import ReferenceServer


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with ReferenceServer(minute_seconds=1.0) as srv:
        assert srv.base_url is not None
        settings = Settings.load({"target": srv.base_url, "management_token": srv.management_token}, environ={})
        t = Target(settings, srv.base_url, management_token=srv.management_token)
        t.refresh_keys()
        yield t
        t.close()


@pytest.fixture
def run(target: Target) -> Iterator[Run]:
    history = History()
    r = Run(target, provision(target, history, (2,), (30,)), history, deadline=time.time() + 60)
    yield r
    r.close()


def _send(run: Run, *steps: Step) -> None:
    for s in steps:
        run.round((s,))


def test_a_key_reuse_meets_the_record_in_the_state_the_run_reached(run: Run) -> None:
    _send(run, Step(1, "checkout", 0, device=0, key="long"), Step(2, "checkout", 0, device=1))
    now = time.time()
    assert run.record_state(1, now) == "longest key, its lease live"
    assert run.record_state(2, now) == "short key, its lease live"
    assert run.pool_state(0, now) == "full"
    _send(run, Step(3, "checkin", 0, lease=1))
    assert run.record_state(1, time.time()) == "longest key, its lease ended"
    _send(run, Step(4, "suspend", 0), Step(5, "reinstate", 0))
    now = time.time()
    assert run.record_state(2, now) == "short key, its lease live, status changed since"
    assert run.record_state(3, now) == "short key, status changed since"  # a checkin's key: no lease of its own


def test_leases_held_through_a_status_change_are_a_state_of_their_own(run: Run) -> None:
    _send(run, Step(1, "checkout", 0, device=0))
    held = run.tokens[1]
    assert run.held_through(held, time.time()) == ""
    _send(run, Step(2, "suspend", 0), Step(3, "reinstate", 0), Step(4, "checkout", 0, device=1))
    now = time.time()
    assert run.held_through(held, now) == ", held through a status change"
    assert run.held_through(run.tokens[4], now) == ""  # granted after the change
    assert run.pool_state(0, now) == "full, some held through a status change"
    keys = {c.key for c in Chooser(random.Random(1), management=True).candidates(run)}
    pool = "full, some held through a status change"
    assert ("fill to exactly 2 and one more", "active", pool) in keys
    record = "; the key's record: short key, its lease live, status changed since"
    assert ("checkout key with another body", "active", pool + record) in keys
    assert ("checkout same device again", "active", pool + "; the device's lease live") in keys
    assert ("heartbeat own lease", "active", "live, held through a status change") in keys


def test_a_request_with_a_value_beyond_the_common_length_is_marked_oversized(run: Run) -> None:
    """A server may refuse a value longer than `COMMON_LENGTH` with a 400/422 of its own (facts):
    the history says which requests sent one, so the checker does not judge such a refusal."""
    _send(
        run,
        Step(1, "checkout", 0, device=0),  # short fingerprint, short key
        Step(2, "checkout", 0, device=1, key="long"),
        Step(3, "checkout", 0, device=2),  # every third device has the longest fingerprint
        Step(4, "heartbeat", 0, lease=1),
        Step(5, "checkin", 0, lease=1, key="long"),
    )
    assert [op.oversized for op in run.history.ops if op.kind != "create_license"] == [False, True, True, False, True]
