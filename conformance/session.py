"""One conformance run in this process: pytest over the scenarios, with our plugin.

The settings travel as a plugin object (`pytest.main(..., plugins=[...])`),
not through a file or a second set of command-line options: the CLI validates
them once, and the plugin reads the very object it was given. Under plain
pytest there is no such object and the plugin reads the same settings from
the environment (`LEASECHECK_*`) and `LEASECHECK_CONFIG`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from leasecheck.core.redact import register_secret

from .settings import Settings

# Not resolve(): through the `leasecheck/conformance` link the scenarios are named
# `leasecheck.conformance.scenarios.*`, the names they import under.
SCENARIOS = Path(__file__).absolute().parent / "scenarios"
PYTEST_INI = SCENARIOS.parent / "pytest.ini"


class ProvidedSettings:
    """A pytest plugin that only carries the run's validated settings to `plugin.py`
    (hashed by identity, as pluggy needs)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def provided_settings(config: pytest.Config) -> Settings | None:
    for p in config.pluginmanager.get_plugins():
        if isinstance(p, ProvidedSettings):
            return p.settings
    return None


@contextmanager
def no_plugin_autoload() -> Iterator[None]:
    """Load only the plugins the run names, not every installed `pytest11` entry point.

    The scenarios need none of them (locust, xdist, timeout, anyio, hypothesis,
    schemathesis's pytest plugin: the generated area drives schemathesis's
    engine itself). Loading them cost about a third of a run's CPU: pytest
    rewrites the asserts of every module of a plugin's distribution, the whole
    of schemathesis and hypothesis, and without a writable bytecode cache
    (PYTHONDONTWRITEBYTECODE) it does so again on every run.
    """
    name = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
    before = os.environ.get(name)
    os.environ[name] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def run_pytest(
    settings: Settings, *, keyword: str | None = None, verbose: bool = False, extra: list[str] | None = None
) -> int:
    """Run the suite in-process; 0 pass, 1 MUST failure, 2 anything that kept it from running."""
    register_secret(settings.management_token)
    args = [
        str(SCENARIOS),
        "-p",
        "leasecheck.conformance.plugin",
        "-c",
        str(PYTEST_INI),
        "--rootdir",
        str(SCENARIOS.parent),
        "-p",
        "no:cacheprovider",
        "--import-mode=importlib",
        "-rN",
        "--tb=no",
        "-v" if verbose else "-q",
    ]
    if keyword:
        args += ["-k", keyword]
    args += extra or []
    with no_plugin_autoload():
        code = int(pytest.main(args, plugins=[ProvidedSettings(settings)]))
    return code if code in (0, 1) else 2
