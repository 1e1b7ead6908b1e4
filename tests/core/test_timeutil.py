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
