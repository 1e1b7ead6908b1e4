"""Run settings: every value is checked before the first request."""

from __future__ import annotations

import pytest

from leasecheck.conformance.settings import Settings, SettingsError


def test_generated_is_an_area_only_can_select():
    assert Settings.load({"only": ("generated", "capacity")}, environ={}).only == ("generated", "capacity")


def test_an_unknown_area_names_the_real_ones():
    with pytest.raises(SettingsError, match=r"unknown area\(s\) nope; areas are: .*sdk, explore, generated"):
        Settings.load({"only": ("nope",)}, environ={})


def test_the_exploration_budget_is_a_setting_and_refuses_a_negative_one():
    assert Settings.load(environ={"LEASECHECK_EXPLORE_SECONDS": "2.5"}).explore_seconds == 2.5
    with pytest.raises(SettingsError, match=r"--explore-seconds must be a finite number of 0 or more"):
        Settings.load({"explore_seconds": -1.0}, environ={})
