"""`run_pytest` loads only the plugins a run names (session.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leasecheck.conformance.session import no_plugin_autoload

NAME = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


class Seen:
    """A plugin that notes which plugins the inner pytest registered."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def pytest_configure(self, config: pytest.Config) -> None:
        self.names = {name for name, _ in config.pluginmanager.list_name_plugin()}


def test_installed_plugins_are_not_autoloaded_inside(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    seen = Seen()
    with no_plugin_autoload():
        code = pytest.main([str(tmp_path), "-q", "-p", "no:cacheprovider"], plugins=[seen])
    assert code == 0
    # schemathesis and hypothesis register pytest11 entry points (installed with the suite)
    assert not {"schemathesis", "hypothesispytest"} & seen.names, seen.names


def test_the_environment_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NAME, raising=False)
    with no_plugin_autoload():
        assert os.environ[NAME] == "1"
    assert NAME not in os.environ
    monkeypatch.setenv(NAME, "yes")
    with no_plugin_autoload():
        assert os.environ[NAME] == "1"
    assert os.environ[NAME] == "yes"
