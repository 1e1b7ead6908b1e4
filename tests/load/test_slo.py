"""SLO expressions: what they mean, and one-line reasons when they are wrong."""

from __future__ import annotations

import pytest

from leasecheck.load.analysis.slo import SloError, parse


@pytest.mark.parametrize(
    "text, metric, op, limit",
    [
        ("p99<50ms", "latency", "<", 0.05),
        ("p99.9 <= 2s", "latency", "<=", 2.0),
        ("checkout:p95<800us", "latency", "<", 0.0008),
        ("max<1s", "latency", "<", 1.0),
        ("errors<0.1%", "errors", "<", 0.001),
        ("denials<=90%", "denials", "<=", 0.9),
        ("rps>=200", "rps", ">=", 200.0),
    ],
)
def test_parse(text, metric, op, limit):
    s = parse(text)
    assert (s.metric, s.op) == (metric, op) and s.limit == pytest.approx(limit)


def test_endpoint_and_quantile_are_kept():
    s = parse("heartbeat (sync):p99.9<10ms")
    assert s.endpoint == "heartbeat (sync)" and s.quantile == 99.9 and s.statistic == "percentile"


def test_holds_and_no_data_never_passes():
    s = parse("p99<50ms")
    assert s.holds(0.049) and not s.holds(0.05) and not s.holds(None)
    assert parse("rps>100").holds(101) and not parse("rps>100").holds(100)


@pytest.mark.parametrize(
    "text, why",
    [
        ("p99<50", "needs a unit"),
        ("errors<0.1", "write it with %"),
        ("errors<120%", "cannot exceed 100%"),
        ("p0<1ms", "between 0 and 100"),
        ("p99", "expected [endpoint:]metric<value"),
        ("latency<5ms", "unknown metric"),
        ("checkout:errors<1%", "only latency thresholds take an endpoint"),
        ("rps>5ms", "requests per second"),
    ],
)
def test_bad_expressions_say_why_in_one_line(text, why):
    with pytest.raises(SloError) as exc:
        parse(text)
    msg = str(exc.value)
    assert why in msg and "\n" not in msg and text in msg


def test_an_slo_on_an_endpoint_the_profile_does_not_have_is_refused_with_its_endpoints():
    """It used to run the whole profile, then end "breached: observed n/a" (exit 3)."""
    from leasecheck.load.analysis.slo import check_endpoints

    known = ("checkout", "heartbeat", "checkin", "heartbeat (sync)")
    check_endpoints([parse("heartbeat (sync):p99<10ms"), parse("checkout:p95<20ms"), parse("p99<1s")], "x", known)
    with pytest.raises(SloError, match=r"x has no endpoint 'nosuchep'; its endpoints: checkout, heartbeat, checkin"):
        check_endpoints([parse("nosuchep:p95<20ms")], "x", known)
