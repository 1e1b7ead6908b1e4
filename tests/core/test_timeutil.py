"""RFC 3339 formatting and parsing of the suite's own timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leasecheck.core.timeutil import format_rfc3339, is_rfc3339, parse_rfc3339


@pytest.mark.parametrize("year", [1, 301, 999, 1000, 2026, 9999])
def test_years_are_four_digits_and_round_trip(year):
    epoch = datetime(year, 6, 6, 12, 30, 15, 250000, tzinfo=UTC).timestamp()
    text = format_rfc3339(epoch)
    assert text == f"{year:04d}-06-06T12:30:15.250Z"
    assert is_rfc3339(text) and parse_rfc3339(text) == pytest.approx(epoch)


def test_a_three_digit_year_is_not_rfc3339():
    assert not is_rfc3339("301-06-06T12:30:15.250Z")


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-12-02T06:31:22.988Z", datetime(2026, 12, 2, 6, 31, 22, 988000, tzinfo=UTC)),
        ("2026-12-02T06:31:22Z", datetime(2026, 12, 2, 6, 31, 22, tzinfo=UTC)),
        ("2026-12-02T06:31:22.9Z", datetime(2026, 12, 2, 6, 31, 22, 900000, tzinfo=UTC)),
        (
            "2026-12-02T06:31:22.1234567Z",
            datetime(2026, 12, 2, 6, 31, 22, 123456, tzinfo=UTC),
        ),  # 7 digits: general path
        ("2026-12-02t06:31:22.5z", datetime(2026, 12, 2, 6, 31, 22, 500000, tzinfo=UTC)),  # lower case: general path
        ("2026-12-02T08:31:22.5+02:00", datetime(2026, 12, 2, 6, 31, 22, 500000, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC)),  # a leap second: general path
    ],
)
def test_the_servers_stamp_shape_and_the_rest_parse_alike(stamp, expected):
    assert parse_rfc3339(stamp) == pytest.approx(expected.timestamp(), abs=1e-6)


@pytest.mark.parametrize(
    "stamp", ["2026-02-30T00:00:00Z", "2026-12-02T24:00:00Z", "2026-13-01T00:00:00Z", "2026-12-02"]
)
def test_an_impossible_date_in_the_stamp_shape_is_still_refused(stamp):
    with pytest.raises(ValueError, match="not an RFC 3339 date-time"):
        parse_rfc3339(stamp)
