"""The chooser: a lease whose device has a lease under another license, live or ended, is a
state of its own, and what it draws is an operation of the model first, then a combination."""

from __future__ import annotations

import random

from leasecheck.conformance.explore.choose import Candidate, Chooser, elsewhere, family
from leasecheck.conformance.explore.steps import Step

BY_DEVICE = {7: [(0, "live"), (1, "ended")], 8: [(0, "live"), (0, "ended")], 9: [(0, "live"), (1, "near")]}


def test_a_device_alone_under_its_license_adds_nothing() -> None:
    assert elsewhere(BY_DEVICE, 8, 0) == ""
    assert elsewhere(BY_DEVICE, None, 0) == ""
    assert elsewhere(BY_DEVICE, 42, 0) == ""


def test_the_other_license_lease_ended() -> None:
    """A checkin there may have ended the lease here: the use here is a new combination."""
    assert elsewhere(BY_DEVICE, 7, 0).endswith("another license ended")


def test_the_other_license_lease_live() -> None:
    assert elsewhere(BY_DEVICE, 7, 1).endswith("another license live")
    assert elsewhere(BY_DEVICE, 9, 0).endswith("another license live")


def _candidate(what: str, op: str, *, steps: int = 1, sequence: bool = False) -> Candidate:
    return Candidate((what, "active", "free"), tuple(Step(i, op, 0) for i in range(steps)), sequence=sequence)


def test_each_candidate_is_an_operation_of_the_model() -> None:
    assert family(_candidate("checkout replay (short key, its lease live)", "checkout")) == "checkout"
    assert family(_candidate("fill to exactly 2 and one more", "checkout", steps=3)) == "fill"
    assert family(_candidate("suspend", "suspend")) == "status change"
    assert family(_candidate("heartbeat just after expiry", "wait", steps=2, sequence=True)) == "time boundary"


def test_many_variants_of_one_operation_do_not_crowd_out_another() -> None:
    """Twenty unvisited checkout combinations and one fill: the fill is drawn about as often as
    all the checkouts together, not one time in twenty-one."""
    checkouts = [_candidate(f"checkout variant {i}", "checkout") for i in range(20)]
    fill = _candidate("fill to exactly 1 and one more", "checkout", steps=2)
    chooser = Chooser(random.Random(7), management=True)
    fills = sum(chooser._draw([*checkouts, fill]) is fill for _ in range(1000))
    assert 400 < fills < 600
