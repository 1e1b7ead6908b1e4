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
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

from leasecheck.conformance.target import LicenseFixture, NotRunnable, Target
from leasecheck.core.client import LeaseClient
from leasecheck.core.timeutil import WAITS

Script = Callable[["Stage"], Any]


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
    def __init__(self, script: Script, target: Target) -> None:
        self.script = script
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

    def start(self, script: Script) -> _Run:
        with self._lock:
            run = self._runs.get(script)
            if run is None:
                run = self._runs[script] = _Run(script, self.target)
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


@pytest.fixture(scope="session", autouse=True)
def _timelines(request: pytest.FixtureRequest) -> Any:
    """Starts the script of every selected timeline test as the session begins."""
    scripts = [s for s in (_script_of(it) for it in request.session.items) if s is not None]
    if not scripts:
        yield None
        return
    timelines = Timelines(request.getfixturevalue("target"))
    for s in scripts:
        timelines.start(s)
    yield timelines
    # Scripts bound their own waits; wait for them so the run releases every lease they took.
    timelines.join(timeout=600.0)


@pytest.fixture
def timeline(request: pytest.FixtureRequest, _timelines: Timelines | None) -> Any:
    """The result of this test's `@pytest.mark.timeline(script=...)` script."""
    script = _script_of(request.node)
    if script is None:
        raise pytest.UsageError(
            f"{request.node.nodeid} uses the timeline fixture without @pytest.mark.timeline(script=...)"
        )
    if _timelines is None:  # not reachable: the session fixture saw this item
        _timelines = Timelines(request.getfixturevalue("target"))
    return _timelines.result(script)
