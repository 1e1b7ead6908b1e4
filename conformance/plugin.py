"""The pytest plugin that turns scenarios into per-requirement verdicts.

Load it with `-p leasecheck.conformance.plugin` (the `leasecheck conformance`
command does; so can plain pytest, with the settings in `LEASECHECK_*`). It
resolves the target (starting the bundled reference server when there is
none), gives scenarios the `target`, `lic` and `expect` fixtures, inspects
every exchange against the universal requirements, and at the end judges
each requirement and writes the reports.

This module is the pytest glue only: the run's state is state.py, how a
run starts is start.py, the target is target/, and how it ends (cleanup,
verdicts, reports, exit code) is results.py.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pluggy import Result

from leasecheck.core.interrupts import stopping
from leasecheck.specs import requirements

from . import markers
from .expect import Expect, RequirementFailed
from .needs import needs_of
from .plan import Plan
from .progress import ProgressPlugin
from .results import finish_run, stop_server
from .session import provided_settings
from .settings import Settings, SettingsError
from .start import StartFailed, launch_bundled, plan_lines, start_target
from .state import RunState
from .target import LicenseFixture, NotRunnable, Target
from .verdict import TestResult

AREA_OF_MODULE_PREFIX = "test_"

STATE_KEY = pytest.StashKey[RunState]()


def state_of(config: pytest.Config) -> RunState:
    """The run state of this session (see state.py)."""
    return config.stash[STATE_KEY]


def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)
    try:
        settings = provided_settings(config) or Settings.load({})
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None
    stopping.clear()  # a new run in this process starts unstopped
    st = config.stash[STATE_KEY] = RunState(settings)
    config.pluginmanager.register(ProgressPlugin(st.judged, _area), "leasecheck-progress")
    if not config.option.collectonly:  # `leasecheck plan` collects only: it starts no server
        launch_bundled(st)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    st = state_of(session.config)
    st.selected = set(Plan(st.settings, [needs_of(it, st.settings) for it in session.items]).selected)


def _area(item: pytest.Item) -> str | None:
    m = item.get_closest_marker("area")
    if m:
        return m.args[0]
    name = Path(str(item.fspath)).stem
    return name[len(AREA_OF_MODULE_PREFIX) :] if name.startswith(AREA_OF_MODULE_PREFIX) else None


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Requirements whose checks were deselected (-k, --only) are `not_run: not selected`."""
    if not items:
        return
    st = state_of(items[0].config)
    for it in items:
        st.deselected.update(rid for m in it.iter_markers("requirement") for rid in m.args)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    only = set(state_of(config).settings.only)
    if not only:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for it in items:
        (keep if _area(it) in only else drop).append(it)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The server under test; the bundled reference server when no target is set."""
    st = state_of(request.config)
    try:
        return start_target(st)
    except StartFailed as exc:
        st.setup_error = str(exc)
        pytest.exit(str(exc), returncode=2)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for line in plan_lines(state_of(session.config).settings):
            reporter.write_line(line)


def blocker_of(item: pytest.Item) -> str | None:
    """Why no inventory can serve this scenario (management access), if so."""
    s = state_of(item.config).settings
    return needs_of(item, s).blocker if s.management_token is None and not s.bundled else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A scenario no inventory can serve is not_run for that, before it takes any
    license: the true blocker is management access, not the inventory's size."""
    blocker = blocker_of(item)
    if blocker:
        pytest.skip(f"not_run: {blocker}")


def expect_for(item: pytest.Item) -> Expect:
    """The `expect` of one scenario (also for one started early, scenarios/conftest.py)."""
    declared = [rid for m in item.iter_markers("requirement") for rid in m.args]
    return Expect(item.nodeid, declared, state_of(item.config).records)


@pytest.fixture
def expect(request: pytest.FixtureRequest) -> Expect:
    return expect_for(request.node)


@pytest.fixture
def lic(target: Target) -> Callable[..., LicenseFixture]:
    """Factory: `lic(seats=2, timeout_minutes=1)` → a fresh LicenseFixture (or not_run)."""

    def make(**kw: Any) -> LicenseFixture:
        try:
            return target.license(**kw)
        except NotRunnable as exc:
            pytest.skip(f"not_run: {exc}")

    return make


# -------------------------------------------------------------- run results
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    st = state_of(item.config)
    st.current = item.nodeid
    yield
    st.current = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Result[pytest.TestReport], None]:
    outcome = yield
    rep = outcome.get_result()
    st = state_of(item.config)
    declared = [rid for m in item.iter_markers("requirement") for rid in m.args]
    unknown = set(declared) - set(requirements())
    if unknown:
        raise pytest.UsageError(f"{item.nodeid} declares unknown requirement(s) {sorted(unknown)}")
    res = st.tests.setdefault(item.nodeid, TestResult(item.nodeid, declared, "passed"))
    res.duration += rep.duration
    if rep.skipped:
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        res.outcome, res.message = "skipped", reason.replace("Skipped: ", "").replace("not_run: ", "")
    elif rep.failed:
        exc = call.excinfo.value if call.excinfo else None
        res.outcome = "failed" if rep.when == "call" else "error"
        if isinstance(exc, RequirementFailed):
            res.failed_requirement = exc.rid
            res.message = str(exc)
        else:
            res.message = _short(call.excinfo) if call.excinfo else rep.longreprtext[-500:]


def _short(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    text = f"{excinfo.type.__name__}: {excinfo.value}"
    return text if len(text) < 600 else text[:600] + "…"


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Ctrl-C under plain pytest too: threads waiting on lease deadlines stop waiting."""
    stopping.set()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.option.collectonly:  # `leasecheck plan` collects: nothing ran, nothing to judge
        return
    code = finish_run(state_of(session.config), exitstatus)
    if code is not None:
        session.exitstatus = code


def pytest_unconfigure(config: pytest.Config) -> None:
    """The verdict is the last line a user reads: after pytest's own summary. A bundled
    server launched at configure but never stopped (no session ran) is stopped here."""
    if STATE_KEY in config.stash and state_of(config).server is not None:
        stop_server(state_of(config))
    line = state_of(config).closing_line if STATE_KEY in config.stash else None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if line and reporter is not None:
        failed = line.startswith("leasecheck FAILED")
        reporter.write_sep("=", line, green=not failed, red=failed, bold=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    lines = state_of(config).summary_lines
    if lines:
        terminalreporter.section("leasecheck verdict")
        for line in lines:
            terminalreporter.write_line(line)
