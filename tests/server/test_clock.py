"""The server's RFC 3339 writer: four-digit years, both timestamp styles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leasecheck.reference_server import clock


def _instant(year: int, *rest: int) -> float:
    return (datetime(year, *rest, tzinfo=UTC) - clock.EPOCH).total_seconds()


@pytest.mark.parametrize(
    ("year", "text"),
    [(1, "0001"), (9, "0009"), (301, "0301"), (999, "0999"), (1000, "1000"), (2030, "2030"), (9999, "9999")],
)
def test_years_are_four_digits_in_both_styles(year: int, text: str) -> None:
    instant = _instant(year, 6, 6, 1, 2, 3) + 0.456
    assert clock.rfc3339(instant) == f"{text}-06-06T01:02:03.456Z"
    assert clock.rfc3339(instant, "offset_seconds") == f"{text}-06-06T01:02:03+00:00"


@pytest.mark.parametrize("year", [1, 301, 999, 1970, 9999])
def test_what_it_writes_it_parses_back(year: int) -> None:
    instant = round(_instant(year, 12, 31, 23, 59, 59) + 0.999, 3)
    text = clock.rfc3339(instant)
    assert clock.parse_rfc3339(text) == instant


def test_the_last_instant_rfc3339_can_name() -> None:
    assert clock.rfc3339(clock.MAX_INSTANT) == "9999-12-31T23:59:59.999Z"


def test_a_management_answer_prints_an_early_year_as_rfc3339(provision, waits) -> None:
    # The schemathesis finding: a license created with starts_at in year 301
    # answered `301-06-06T…`, which no RFC 3339 parser accepts.
    p = provision(starts_at="0301-06-06T00:00:00Z", expires_at="2999-01-01T00:00:00Z")
    assert p.license["starts_at"] == "0301-06-06T00:00:00.000Z"
    assert waits.parse_ts(p.license["starts_at"]) == _instant(301, 6, 6)
