"""The honest variants: every default accepts all of them."""

from __future__ import annotations

import dataclasses

import pytest

from leasecheck.core.model import Accepted, Model


def test_defaults_accept_every_honest_variant():
    a = Accepted()
    assert a.same_device_reuse and a.same_device_new_seat and a.same_device_refusal
    assert a.revive_expired and a.checkin_of_ended_succeeds
    assert a.suspension_ends_leases == "may"
    assert a.replay_answer == "same_lease"
    assert a.late_heartbeat_margin > 0 and a.reclaim_delay > 0


def test_models_are_values():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Model().tolerance = 1.0  # type: ignore[misc]
    assert Model() == Model()
    assert Model(accepted=Accepted(revive_expired=False)) != Model()
