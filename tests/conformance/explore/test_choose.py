"""The chooser's view of devices: a lease whose device has a lease under another license,
live or ended, is a state of its own."""

from __future__ import annotations

from leasecheck.conformance.explore.choose import elsewhere

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
