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


@pytest.mark.parametrize(
    "toml,says",
    [
        ("target = 5", "target must be a string, not 5"),
        ("management_token = 123", "management-token must be a string, not an int"),
        ("only = [5]", "only must be a list of area names, not [5]"),
        ("only = 5", "only must be a list of area names, not 5"),
        ("concurrency = 2.5", "concurrency must be a whole number, not 2.5"),
        ("concurrency = true", "concurrency must be a whole number, not True"),
        ("report_dir = 7", "report-dir must be a path, not 7"),
    ],
)
def test_a_config_value_of_the_wrong_type_is_a_settings_error(tmp_path, toml, says):
    """target = 5 and management_token = 123 used to pass through and end in an AttributeError (exit 3)."""
    config = tmp_path / "c.toml"
    config.write_text(f"[leasecheck]\n{toml}\n")
    with pytest.raises(SettingsError) as refused:
        Settings.load(config=config, environ={})
    assert str(refused.value) == says
    assert "123" not in str(refused.value) or "token" not in toml  # a token's value is never quoted


def test_an_env_value_that_is_no_number_says_a_number():
    with pytest.raises(SettingsError, match=r"^minute-seconds must be a number, not 'abc'$"):
        Settings.load(environ={"LEASECHECK_MINUTE_SECONDS": "abc"})
    with pytest.raises(SettingsError, match=r"^seed must be a whole number, not 'x1'$"):
        Settings.load(environ={"LEASECHECK_SEED": "x1"})


def test_a_config_path_that_is_a_directory_is_a_settings_error(tmp_path):
    """LEASECHECK_CONFIG=/tmp used to be an IsADirectoryError (exit 3)."""
    with pytest.raises(SettingsError, match=r"^config file '.*' is a directory$"):
        Settings.load(environ={"LEASECHECK_CONFIG": str(tmp_path)})


def test_an_inventory_without_a_target_is_refused(tmp_path):
    """It used to be ignored: the run went to the bundled server and never read the file."""
    inventory = tmp_path / "inv.json"
    inventory.write_text('[{"license_key": "lk_abc", "max_floating_users": 1}]')
    with pytest.raises(SettingsError, match=r"^--inventory needs --target URL"):
        Settings.load({"inventory": inventory}, environ={})
    assert Settings.load({"inventory": inventory, "target": "http://127.0.0.1:9"}, environ={}).inventory == inventory


@pytest.mark.parametrize("what", ["inventory", "expected_failures"])
def test_a_file_setting_that_names_a_directory_says_so(tmp_path, what):
    """It said "does not exist"."""
    with pytest.raises(SettingsError, match=rf"^{what.replace('_', '-')} file '{tmp_path}' is a directory$"):
        Settings(**{what: tmp_path}).validated()
