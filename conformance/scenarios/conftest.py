"""Timelines: scenarios that wait on lease deadlines run side by side.

A scenario that has to wait for a lease to age (expiry, late heartbeats)
puts its timed steps in a *script* and marks its test with
`@pytest.mark.timeline(script=fn)` (a keyword: a lone function argument would
make pytest apply the mark to that function). When the session starts, every
selected test's script is started in its own thread, so that all their leases
are checked out at about the same instant and all their waits overlap: a run
takes about one lease window, not one per scenario. The test itself then
collects its script's result (the `timeline` fixture) and judges it with
`expect`, as any other scenario does.

A script is `script(stage) -> result`; `stage` gives it the target, a
license (`stage.license(...)`; NotRunnable, and a time that is not RFC 3339,
become a not_run verdict), a
client on its own connection, and `stage.minutes(seconds)`: the fewest
policy minutes that last at least that many seconds on this target (the
bundled server's minutes are one second long).

A script marked `first=True` (exploration: what it finds depends on the
CPU it gets within its time budget) runs before anything else starts but
the other timelines when the target is near (early.near: the CPU, not the
round trips, bounds what a budget buys), as it did when scenarios ran one
at a time.

Every other scenario that owns its licenses is started early too, in a
bounded pool (conformance/early.py), so a remote target's round trips
overlap as the waits do. pytest then runs the items in this order: first
those it runs itself (serial), while the pool and the timelines work, then
it takes the early ones' outcomes, then the timelines' results. Serial, and
why:

- system (`pytestmark` serial): the server's own endpoints, no license of
  its own; they cost a handful of requests;
- TIME-06 (serial): judged on the clock offset of every answer so far;
- generated (a module-scoped license, one schemathesis session for the
  module, which its tests only judge): found by `early.startable`, as is any
  scenario with a fixture of a wider scope or one that needs `request`.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from leasecheck.conformance import early
from leasecheck.conformance.plugin import blocker_of, expect_for
from leasecheck.conformance.target import LicenseFixture, NotRunnable, Target, working
from leasecheck.core.client import LeaseClient
from leasecheck.core.timeutil import WAITS

Script = Callable[["Stage"], Any]


#: What a scenario started early is given by the session, not by a fixture function
#: (and `_early`, below, which hands its outcome to pytest).
GIVEN = frozenset({"target", "expect", "_early"})


def _order(item: pytest.Item) -> int:
    """Serial scenarios first (they run while the others work), then the early ones,
    then the timelines (whose results come last)."""
    if _script_of(item) is not None:
        return 2
    return 1 if early.startable(item, GIVEN) else 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_order)


class Stage:
    """What a script may use; one per script, so each has its own connection."""

    def __init__(self, target: Target, name: str) -> None:
        self.target = target
        self.name = name
        self.http = target.new_http()

    def minutes(self, seconds: float) -> int:
        """The fewest whole policy minutes lasting at least `seconds` on this target."""
        return max(1, math.ceil(seconds / self.target.settings.minute - 1e-9))

    def license(self, **kw: Any) -> LicenseFixture:
        kw.setdefault("purpose", self.name)
        return self.target.license(**kw)

    def client(self, fixture: LicenseFixture) -> LeaseClient:
        return self.target.client(fixture, self.http)


def wait_label(script: Script) -> tuple[str, str]:
    """How a progress display names this script's waits: its area, and what its
    module says it waits for (`WAITING_FOR`)."""
    module = sys.modules.get(script.__module__)
    area = script.__module__.rsplit(".", 1)[-1].removeprefix("test_")
    return area, str(getattr(module, "WAITING_FOR", "lease deadlines"))


class _Run:
    def __init__(self, script: Script, target: Target, test: str | None = None) -> None:
        self.script = script
        self.test = test  # the first scenario judging it: its findings are noted there
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(
            target=self._main, args=(target,), daemon=True, name=f"timeline-{script.__name__}"
        )
        self.thread.start()

    def _main(self, target: Target) -> None:
        WAITS.label(wait_label(self.script))
        try:
            with working(self.test):
                self.result = self.script(Stage(target, self.script.__name__.strip("_").replace("_", "-")))
        except ValueError as exc:
            # An answer whose times cannot be parsed cannot be waited on; TIME-05 (checked
            # on every answer) fails for it, the timed requirements are not run.
            self.error = (
                NotRunnable(f"cannot time this scenario: {exc} (see TIME-05)") if "RFC 3339" in str(exc) else exc
            )
        except BaseException as exc:
            self.error = exc
        finally:
            self.done.set()


class Timelines:
    """The scripts of one session, each started at most once."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._runs: dict[Script, _Run] = {}
        self._lock = threading.Lock()

    def start(self, script: Script, test: str | None = None) -> _Run:
        with self._lock:
            run = self._runs.get(script)
            if run is None:
                run = self._runs[script] = _Run(script, self.target, test)
            return run

    def result(self, script: Script) -> Any:
        run = self.start(script)
        run.done.wait()
        if isinstance(run.error, NotRunnable):
            pytest.skip(f"not_run: {run.error}")
        if run.error is not None:
            raise run.error
        return run.result

    def join(self, timeout: float) -> None:
        for run in list(self._runs.values()):
            run.done.wait(timeout)


def _script_of(item: pytest.Item) -> Script | None:
    m = item.get_closest_marker("timeline")
    return m.kwargs.get("script") if m is not None else None


def _first(item: pytest.Item) -> bool:
    m = item.get_closest_marker("timeline")
    return bool(m is not None and m.kwargs.get("first"))


class Started:
    """What the session started: the timelines and the pool of early scenarios."""

    def __init__(self, timelines: Timelines, pool: early.Pool | None) -> None:
        self.timelines = timelines
        self.pool = pool


@pytest.fixture(scope="session", autouse=True)
def _timelines(request: pytest.FixtureRequest) -> Any:
    """Starts the script of every selected timeline test, then every scenario that
    may run early (early.py), as the session begins."""
    items = request.session.items
    target = request.getfixturevalue("target")
    timelines = Timelines(target)
    first = []
    for it in items:
        s = _script_of(it)
        if s is not None:
            run = timelines.start(s, it.nodeid)
            if _first(it):
                first.append(run)
    round_trip = target.clock.best_round_trip
    for run in first if early.near(round_trip) else []:
        run.done.wait()  # a time-budgeted script gets the CPU it had when nothing else ran
    starting = [
        it for it in items if isinstance(it, pytest.Function) and early.startable(it, GIVEN) and blocker_of(it) is None
    ]
    pool = None
    if starting:
        pool = early.Pool(early.width(target.settings.concurrency, round_trip))
        for it in starting:
            pool.start(it, lambda item: {"target": target, "expect": expect_for(item)})
    yield Started(timelines, pool)
    # Scenarios and scripts bound their own waits; wait for them so the run releases
    # every lease they took.
    if pool is not None:
        pool.close()
    timelines.join(timeout=600.0)


@pytest.fixture(autouse=True)
def _early(request: pytest.FixtureRequest, _timelines: Started) -> Iterator[early.Outcome | None]:
    """For a scenario started early: its fixtures are the values its thread built
    (pytest builds none again), or the error building them raised; an error
    closing them is raised at teardown. None for every other scenario."""
    out = _timelines.pool.outcome(request.node) if _timelines.pool is not None else None
    if out is not None:
        early.replay_setup(request.node, out)
    yield out
    if out is not None and out.teardown is not None:
        raise out.teardown


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """An early scenario's body already ran: its outcome is the call's."""
    out = pyfuncitem.funcargs.get("_early")
    if not isinstance(out, early.Outcome):
        return None
    if out.call is not None:
        raise out.call
    return True


@pytest.fixture
def timeline(request: pytest.FixtureRequest, _timelines: Started) -> Any:
    """The result of this test's `@pytest.mark.timeline(script=...)` script."""
    script = _script_of(request.node)
    if script is None:
        raise pytest.UsageError(
            f"{request.node.nodeid} uses the timeline fixture without @pytest.mark.timeline(script=...)"
        )
    return _timelines.timelines.result(script)
