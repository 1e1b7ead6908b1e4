"""A gallery server is the reference server built from a fault's parts: it says
so on stderr before it listens, and it answers with the bug, whether started as
`python -m leasecheck.gallery serve` or as `leasecheck serve --fault`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leasecheck.core.client import Http, LeaseClient, Management, hardware_binding, new_key
from leasecheck.core.server_process import ReferenceServer
from leasecheck.gallery import process
from leasecheck.gallery.registry import FAULTS, UnknownCase
from leasecheck.gallery.serving import case_settings
from leasecheck.gallery.variants import VARIANTS
from leasecheck.reference_server.settings import Settings

FAULT = "over-capacity-429"


def test_a_fault_runs_on_the_variant_it_is_built_on():
    base = Settings(management_token="t")
    built = FAULTS["replay-creates-new-lease"]
    assert case_settings(base, built, "default").behaviour == VARIANTS[built.variant].behaviour
    assert case_settings(base, built, built.variant).behaviour == VARIANTS[built.variant].behaviour
    with pytest.raises(UnknownCase, match="runs on variant"):
        case_settings(base, built, "status-403")


def test_a_variant_is_only_a_behaviour():
    base = Settings(management_token="t")
    assert case_settings(base, None, "status-403") == Settings(
        management_token="t", behaviour=VARIANTS["status-403"].behaviour
    )
    assert case_settings(base, FAULTS[FAULT], "codes-alt").behaviour == VARIANTS["codes-alt"].behaviour


def test_a_fault_does_not_run_on_a_variant_that_replaces_steps():
    """A fault's parts and a variant's parts (variant_steps.py) cannot both be the server's."""
    with pytest.raises(UnknownCase, match="both replace server steps"):
        case_settings(Settings(management_token="t"), FAULTS[FAULT], "in-flight-409")


@pytest.fixture(params=["gallery", "cli"])
def faulty(request: pytest.FixtureRequest) -> Iterator[ReferenceServer]:
    """The same fault through `python -m leasecheck.gallery` and through `leasecheck serve`."""
    if request.param == "gallery":
        srv = process.server(fault=FAULT, minute_seconds=1.0)
    else:
        srv = ReferenceServer(module="leasecheck.cli", minute_seconds=1.0, extra_args=process.case_args(fault=FAULT))
    with srv:
        yield srv


def test_a_faulty_server_warns_and_answers_with_its_bug(faulty):
    log = faulty.log_text()
    warning = log.index(f"WARNING: FAULT INJECTED: {FAULT}")
    assert warning < log.index("listening on")
    assert f"FAULT INJECTED in this worker: {FAULT}" in log
    assert faulty.base_url is not None
    with Http(faulty.base_url) as http:
        mgmt = Management(http, faulty.management_token)
        product = mgmt.create_product("gallery", new_key())
        policy = mgmt.create_policy(
            product["id"], name="g", code="g", license_type="subscription", max_floating_users=1
        )
        client = LeaseClient(http, mgmt.create_license(product["id"], policy["id"])[1])
        assert client.checkout(hardware_binding()).status == 200
        assert client.checkout(hardware_binding()).status == 429  # the bug: a full pool answered as a rate limit
