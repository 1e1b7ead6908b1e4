"""The pytest plugin that turns scenarios into per-requirement verdicts.

Load it with `-p leasecheck.conformance.plugin` (the `leasecheck conformance`
command does). It resolves the target (starting the bundled reference server
when there is none), gives scenarios the `target`, `lic` and `expect`
fixtures, inspects every exchange against the universal requirements, and
at the end judges each requirement and writes the reports.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from leasecheck import __version__
from leasecheck.core.client import Exchange
from leasecheck.core.envelope import Finding
from leasecheck.core.ledger import Ledger, LedgerError, state_dir
from leasecheck.core.probe import TargetUnreachable, probe
from leasecheck.specs import requirements

from .coverage import Coverage
from .expect import Expect, Record, RequirementFailed
from .session import provided_settings
from .settings import DEFAULT_CONCURRENCY, Settings, SettingsError
from .target import LicenseFixture, NotRunnable, Target
from .verdict import TestResult

AREA_OF_MODULE_PREFIX = "test_"


@dataclass
class RunState:
    settings: Settings
    started_at: float = field(default_factory=time.time)
    records: list[Record] = field(default_factory=list)
    tests: dict[str, TestResult] = field(default_factory=dict)
    observed_ok: Counter = field(default_factory=Counter)
    current: str | None = None
    target: Target | None = None
    server: Any = None  # ReferenceServer when bundled
    server_version: str | None = None
    server_header: str | None = None
    coverage: Coverage = field(default_factory=Coverage)
    lock: threading.Lock = field(default_factory=threading.Lock)
    extra: dict[str, Any] = field(default_factory=dict)  # sections other modules add to results.json
    setup_error: str | None = None
    deselected: set[str] = field(default_factory=set)  # requirements whose checks -k/--only left out

    def on_finding(self, ex: Exchange, findings: list[Finding]) -> None:
        self.coverage.observe(ex)
        with self.lock:
            for f in findings:
                if f.ok:
                    self.observed_ok[f.requirement] += 1
                else:
                    self.records.append(Record(f.requirement, False, f.message, [ex.evidence()], self.current))


STATE_KEY = pytest.StashKey[RunState]()


def state_of(config: pytest.Config) -> RunState:
    return config.stash[STATE_KEY]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the requirement IDs a scenario proves")
    config.addinivalue_line("markers", "area(name): the requirement area of a scenario")
    try:
        settings = provided_settings(config) or Settings.load({})
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None
    from leasecheck.core.interrupts import stopping

    stopping.clear()  # a new run in this process starts unstopped
    config.stash[STATE_KEY] = RunState(settings)


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
    keep, drop = [], []
    for it in items:
        (keep if _area(it) in only else drop).append(it)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The server under test; the bundled reference server when no target is set."""
    st = state_of(request.config)
    t = start_target(st)
    yield t


def start_target(st: RunState) -> Target:
    if st.target is not None:
        return st.target
    s = st.settings
    token = s.management_token
    base = s.target
    if s.bundled:
        from leasecheck.core.server_process import ReferenceServer

        st.server = ReferenceServer(minute_seconds=s.minute_seconds or 1.0)
        st.server.start()
        base, token = st.server.base_url, st.server.management_token
    assert base is not None
    try:
        health = probe(base, timeout=min(s.request_timeout, 5.0))
    except TargetUnreachable as exc:
        st.setup_error = str(exc)
        pytest.exit(str(exc), returncode=2)
    st.server_header = health.header("server") or None
    st.server_version = server_version(s.server_version, st.server_header)
    ledger = None
    if not s.bundled:  # the bundled server's database is temporary: nothing to recover
        try:
            ledger = Ledger.create(
                state_dir(s.state_dir),
                s.run_id,
                {
                    "target": base,
                    "started_at": st.started_at,
                    "suite_version": __version__,
                    "provisioning": "inventory" if s.inventory else "management",
                },
            )
        except LedgerError as exc:
            st.setup_error = str(exc)
            pytest.exit(str(exc), returncode=2)
    st.target = Target(s, base, management_token=token, on_finding=st.on_finding, ledger=ledger)
    st.target.throttle_observers.append(st.coverage.observe)
    st.target.current_test = st.current
    st.target.refresh_keys()
    return st.target


def server_version(configured: str | None, header: str | None) -> str | None:
    """What the target runs: the configured value, else its Server header when that
    names a version (a bare 'uvicorn' or 'nginx' says nothing about the server's code,
    and would make every changed outcome look flaky to `leasecheck diff`)."""
    if configured:
        return configured
    if header and any(c.isdigit() for c in header):
        return header
    return None


def plan_lines(s: Settings) -> list[str]:
    """What this run will send, and how gently: said before the first request."""
    reduced = s.concurrency < DEFAULT_CONCURRENCY
    return [
        f"leasecheck run {s.run_id}: concurrency scenarios send up to {s.concurrency} simultaneous requests"
        + (f" (reduced from the default {DEFAULT_CONCURRENCY})" if reduced else ""),
        "leasecheck rate: "
        + (f"at most {s.max_rps:g} requests/s on average" if s.max_rps else "no cap")
        + f"; 429 answers are waited out (Retry-After), at most {s.rate_limit_budget:g} s in all",
    ]


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for line in plan_lines(state_of(session.config).settings):
            reporter.write_line(line)


@pytest.fixture
def expect(request: pytest.FixtureRequest) -> Expect:
    st = state_of(request.config)
    declared = [rid for m in request.node.iter_markers("requirement") for rid in m.args]
    return Expect(request.node.nodeid, declared, st.records)


@pytest.fixture
def lic(target: Target) -> Any:
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
    if st.target is not None:
        st.target.current_test = item.nodeid
    yield
    st.current = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
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


def pytest_keyboard_interrupt(excinfo: Any) -> None:
    """Ctrl-C under plain pytest too: threads waiting on lease deadlines stop waiting."""
    from leasecheck.core.interrupts import stopping

    stopping.set()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    st = state_of(session.config)
    from .results import finish_run

    code = finish_run(st, exitstatus)
    if code is not None:
        session.exitstatus = code


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    st = state_of(config)
    lines = st.extra.get("summary_lines")
    if lines:
        terminalreporter.section("leasecheck verdict")
        for line in lines:
            terminalreporter.write_line(line)
