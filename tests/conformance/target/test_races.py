"""races.py: each scenario's races, once per scenario, as results.json lists them."""

from __future__ import annotations

from leasecheck.conformance.target.races import RaceLog


def test_a_scenario_is_listed_once_with_its_widest_race_and_all_its_requests() -> None:
    log = RaceLog()
    log.note("t::a", 8, 8)
    log.note("t::b", 48, 48)
    log.note("t::a", 16, 32)
    assert log.to_json() == [
        {"test": "t::a", "simultaneous": 16, "requests": 40, "races": 2},
        {"test": "t::b", "simultaneous": 48, "requests": 48, "races": 1},
    ]
