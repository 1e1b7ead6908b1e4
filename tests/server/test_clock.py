"""The server's RFC 3339 writer and reader: four-digit years, both timestamp styles, the range
four-digit years can name."""

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


@pytest.mark.parametrize("fraction", ["9995", "9999", "99951", "999999999"])
def test_a_fraction_that_rounds_into_year_10000_reads_as_the_last_instant(fraction: str) -> None:
    # Rounded to the millisecond these are 253402300800.0, which no four-digit year can name.
    assert clock.parse_rfc3339(f"9999-12-31T23:59:59.{fraction}Z") == clock.MAX_INSTANT


def test_a_stored_instant_past_what_rfc3339_can_name_is_written_as_the_nearest_one() -> None:
    # A row stored by a server that rounded 9999-12-31T23:59:59.9995Z up to year 10000.
    assert clock.rfc3339(253402300800.0) == "9999-12-31T23:59:59.999Z"
    assert clock.rfc3339(clock.MAX_INSTANT + 86400, "offset_seconds") == "9999-12-31T23:59:59+00:00"
    assert clock.rfc3339(clock.MIN_INSTANT - 1) == "0001-01-01T00:00:00.000Z"


@pytest.mark.parametrize("field", ["starts_at", "expires_at", "maintenance_expires_at"])
def test_a_license_dated_in_the_last_half_millisecond_of_9999_is_created_and_managed(
    provision, management, field: str
) -> None:
    # It answered 500 after committing the license, and every later status change 500 too.
    p = provision(**{field: "9999-12-31T23:59:59.9999Z"})
    assert p.license[field] == "9999-12-31T23:59:59.999Z"
    assert management.set_status(p.license_id, "suspend")[field] == "9999-12-31T23:59:59.999Z"
    assert management.set_status(p.license_id, "revoke")["status"] == "revoked"
