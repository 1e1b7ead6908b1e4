"""userdirs: leasecheck's per-user folders follow the XDG variables, else the home defaults."""

from __future__ import annotations

from pathlib import Path

from leasecheck.core.ledger import state_dir
from leasecheck.core.userdirs import user_dir


def test_an_xdg_variable_wins_over_the_home_default():
    assert user_dir("XDG_CACHE_HOME", {"XDG_CACHE_HOME": "/c"}) == Path("/c/leasecheck")
    assert user_dir("XDG_STATE_HOME", {"XDG_STATE_HOME": "/s"}) == Path("/s/leasecheck")


def test_without_it_the_folders_sit_under_home():
    assert user_dir("XDG_CACHE_HOME", {}) == Path.home() / ".cache" / "leasecheck"
    assert user_dir("XDG_STATE_HOME", {"XDG_STATE_HOME": ""}) == Path.home() / ".local" / "state" / "leasecheck"


def test_the_ledger_s_state_dir_is_one_of_them():
    assert state_dir(environ={"XDG_STATE_HOME": "/s"}) == Path("/s/leasecheck/runs")
    assert state_dir(environ={}) == Path.home() / ".local" / "state" / "leasecheck" / "runs"
    assert state_dir(environ={"LEASECHECK_STATE_DIR": "/mine", "XDG_STATE_HOME": "/s"}) == Path("/mine/runs")
