"""One conformance run in this process: pytest over the scenarios, with our plugin.

The settings travel as a plugin object (`pytest.main(..., plugins=[...])`),
not through a file or a second set of command-line options: the CLI validates
them once, and the plugin reads the very object it was given. Under plain
pytest there is no such object and the plugin reads the same settings from
the environment (`LEASECHECK_*`) and `LEASECHECK_CONFIG`.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def pytest_args(*, keyword: str | None = None, verbose: bool = False, terminal: bool = True) -> list[str]:
    """The pytest command line of a run (and of the plan's collection of it).

    Third-party pytest plugins are not autoloaded: the suite needs none of them,
    and one imported before pytest starts (anyio, by the target probe's HTTP
    client) made every run print a PytestAssertRewriteWarning. `-qq` leaves out
    pytest's closing line of test counts: the last line is the verdict. Without
    `terminal` (the plan's collection) pytest prints nothing."""
    args = [
        str(SCENARIOS),
        "-p",
        "leasecheck.conformance.plugin",
        "-c",
        str(PYTEST_INI),
        "--rootdir",
        str(SCENARIOS.parent),
        "--disable-plugin-autoload",
        "-p",
        "no:cacheprovider",
        "--import-mode=importlib",
        # pytest's closing gc.collect() (twice, for unraisable exceptions of __del__
        # methods the run never reads) took 0.2-0.4 s of CPU after a run's last scenario.
        "-p",
        "no:unraisableexception",
        # Scenarios judge with `expect`, not `assert`: rewriting their modules' asserts
        # only cost CPU at every collection (0.1-0.2 s).
        "--assert=plain",
    ]
    args += ["-rN", "--tb=no", "-qq"] if terminal else ["-p", "no:terminal"]
    if verbose:
        args += ["-o", "verbosity_test_cases=1"]
    if keyword:
        args += ["-k", keyword]
    return args


def keyword_problem(keyword: str | None) -> str | None:
    """Why pytest would refuse this `-k` expression, in one line, or None. Checked by
    pytest's own parser (when the installed pytest has it where 9.x keeps it), before
    the run starts: pytest would say it only after the target had been asked, in lines."""
    if not keyword:
        return None
    try:
        from _pytest.mark.expression import Expression
    except ImportError:  # another pytest: the collection's exit code still says it (plan.collect)
        return None
    try:
        Expression.compile(keyword)
    except SyntaxError as exc:
        return f"-k {keyword!r} is not a valid expression: at column {exc.offset}: {exc.msg}"
    return None


def run_pytest(
    settings: Settings,
    *,
    keyword: str | None = None,
    verbose: bool = False,
    extra: list[str] | None = None,
    plugins: Sequence[object] = (),
) -> int:
    """Run the suite in-process; 0 pass, 1 MUST failure, 2 anything that kept it from running.
    `plugins` join ours (the suite's own tests watch a run with one)."""
    register_secret(settings.management_token)
    args = pytest_args(keyword=keyword, verbose=verbose) + (extra or [])
    code = int(pytest.main(args, plugins=[ProvidedSettings(settings), *plugins]))
    return code if code in (0, 1) else 2
