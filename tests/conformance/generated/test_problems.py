"""problems: what a request as sent breaks, by our spec, most decisive first."""

from __future__ import annotations

import pytest

from leasecheck.conformance.generated.problems import only_nulls, problems

from .conftest import AUTH, observation


@pytest.mark.parametrize(
    "label,body,options,first",
    [
        ("checkout", {"fingerprint": "a"}, {"auth": None}, "AUTH-01"),
        ("checkout", {"fingerprint": "a"}, {"auth": "License lk_someone_else"}, "AUTH-01"),
        ("checkout", {"fingerprint": "a"}, {"key": None}, "IDEM-01"),
        ("checkin", {"lease_token": "t"}, {"key": None}, "IDEM-02"),
        ("heartbeat", None, {"raw": b"{nope"}, "INPUT-01"),
        ("heartbeat", None, {}, "INPUT-01"),
        ("heartbeat", None, {"raw": b"null"}, "INPUT-03"),  # JSON, of the wrong type
        ("heartbeat", {"lease_token": 1}, {}, "INPUT-03"),
        ("heartbeat", {}, {}, "INPUT-03"),
        ("heartbeat", [1], {}, "INPUT-03"),
        ("heartbeat", {"lease_token": "t", "x": 1}, {}, "INPUT-02"),
        ("checkout", {"fingerprint": "a" * 300}, {}, None),
        ("checkout", {"fingerprint": "a", "app_version": None}, {}, None),  # null in an optional field
        ("checkout", {"fingerprint": "a", "app_version": None, "is_vm": "no"}, {}, "INPUT-03"),
        ("heartbeat", {"lease_token": None}, {}, "INPUT-03"),  # null in a required field
        ("checkout", {"fingerprint": "a"}, {"key": ""}, None),
    ],
)
def test_what_a_request_breaks(label, body, options, first):
    probs = problems(observation(label, 200, body, **options), AUTH)
    assert probs and probs[0].requirement == first


def test_the_most_decisive_comes_first():
    o = observation("checkout", 200, {"fingerprint": "a", "x": 1}, auth=None, key=None)
    assert [p.requirement for p in problems(o, AUTH)] == ["AUTH-01", "IDEM-01", "INPUT-02"]


def test_a_valid_request_breaks_nothing():
    o = observation("checkout", 200, {"fingerprint": "a", "is_vm": False})
    assert problems(o, AUTH) == []


def test_a_null_in_an_optional_field_is_marked_as_the_facts_silent_point():
    o = observation("checkout", 200, {"fingerprint": "a", "pod_name": None, "app_version": None})
    probs = problems(o, AUTH)
    assert [p.null_optional for p in probs] == [True, True] and only_nulls(probs)
    assert all(p.requirement is None and "optional" in p.what for p in probs)


@pytest.mark.parametrize(
    "label,body",
    [
        ("heartbeat", {"lease_token": None}),  # required: null reads as missing, or as a wrong type
        ("checkout", {"fingerprint": 5, "app_version": None}),  # a wrong non-null type beside the null
        ("heartbeat", None),  # the body itself null: no field at all
    ],
)
def test_a_null_that_is_not_only_an_optional_field_is_not_excused(label, body):
    raw = b"null" if body is None else None
    probs = problems(observation(label, 200, body, raw=raw), AUTH)
    assert not only_nulls(probs) and probs[0].requirement == "INPUT-03"


def test_optional_fields_are_the_official_contracts_optional_fields(official_contract):
    """The triage reads optional from our schemas; the official contract must agree, or a
    null the contract makes required would be excused (or one it leaves optional failed)."""
    import yaml

    from leasecheck.conformance.generated.operations import BODY_SCHEMA
    from leasecheck.specs.validate import validator

    official = yaml.safe_load(official_contract.read_text(encoding="utf-8"))["components"]["schemas"]
    theirs = {"CheckoutRequest": "RuntimeBindingRequest", "LeaseTokenRequest": "FloatingLeaseRequest"}
    for ours in set(BODY_SCHEMA.values()):
        schema = validator(ours).schema
        official_schema = official[theirs[ours]]
        assert set(schema["properties"]) == set(official_schema["properties"]), ours
        assert set(schema.get("required", [])) == set(official_schema.get("required", [])), ours
