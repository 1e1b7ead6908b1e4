"""problems: what a request as sent breaks, by our spec, most decisive first."""

from __future__ import annotations

import pytest

from leasecheck.conformance.generated.problems import problems

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
