"""Scenarios started early, side by side, in a bounded pool; pytest judges them in turn.

Most scenarios send one request after another: against a server 150 ms away
a run would be a sum of round trips. A scenario that takes licenses of its
own and whose fixtures are its own (function-scoped, built only from
`target`, `expect`, `lic`, its parameters and other such fixtures) cannot
disturb another one, so the session starts it in a pool of threads as soon
as the run begins (scenarios/conftest.py): its fixtures are built, its body
runs and its generator fixtures are closed in that thread, in that order,
exactly as pytest would. When pytest reaches the item it takes the outcome
instead of running it again: an error in a fixture is raised in setup, one
in the body in the call, one while closing a fixture in teardown, so the
item's report (skipped, failed, error) and every record it made are what a
run one at a time gives.

How many run at once is bounded by `--concurrency` (at most `POOL_LIMIT`, and
one against a near target: `width`);
their requests share the run's rate cap (`--max-rps`), gate and back-off
(target/transport.py). Each thread works for its scenario
(target/attribution.py), so universal findings and races are noted under
the scenario that caused them.

Not started early, and run by pytest in its order while the pool works: a
scenario marked `@pytest.mark.serial("why")`, one with a fixture of a wider
scope or one that needs pytest's `request` (a module-scoped shared license,
the generated run's session, a timeline's result).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from leasecheck.core.interrupts import stopping

from .target import working

#: Scenarios running at once against a distant target: the first few hide most of
#: its latency; more would only add threads fighting for the interpreter.
POOL_LIMIT = 4
#: A target whose best round trip is shorter than this is near (loopback, or the same
#: region): there is little latency to hide, and scenarios side by side would mostly
#: share the CPU, stretching each one's time against leases a second long (a loaded
#: 2-core machine's loopback took over 20 ms). Near, one early scenario at a time
#: (still beside pytest's own and the timelines).
NEAR_ROUND_TRIP_SECONDS = 0.05
SERIAL_MARKER = "serial"

#: Values a started scenario gets from the session rather than from a fixture function.
Given = dict[str, Any]


class Unresolvable(Exception):
    """A fixture this module cannot build outside pytest (the item stays with pytest)."""


@dataclass
class Outcome:
    """How one early scenario went, by phase, and the values its fixtures had."""

    values: dict[str, Any] = field(default_factory=dict)
    setup: BaseException | None = None
    call: BaseException | None = None
    teardown: BaseException | None = None


def serial_reason(item: pytest.Item) -> str | None:
    m = item.get_closest_marker(SERIAL_MARKER)
    return (m.args[0] if m.args else "marked serial") if m is not None else None


def _fixturedef(item: pytest.Function, name: str) -> Any:
    defs = item._fixtureinfo.name2fixturedefs.get(name)
    if not defs:
        raise Unresolvable(name)
    return defs[-1]


def _params(item: pytest.Function) -> dict[str, Any]:
    spec = getattr(item, "callspec", None)
    return dict(spec.params) if spec is not None else {}


def _check(item: pytest.Function, name: str, given: frozenset[str]) -> None:
    """Raise Unresolvable unless `name` can be built from `given`, parameters and
    function-scoped fixtures without `request`."""
    if name in given or name in _params(item):
        return
    fd = _fixturedef(item, name)
    if fd.scope != "function" or fd.params is not None or "request" in fd.argnames:
        raise Unresolvable(name)
    for dep in fd.argnames:
        _check(item, dep, given)


def startable(item: pytest.Item, given: frozenset[str]) -> bool:
    """May this item run early? Not when marked serial or when a fixture cannot be built."""
    if serial_reason(item) is not None or not isinstance(item, pytest.Function):
        return False
    info = item._fixtureinfo
    try:
        for name in info.argnames:
            _check(item, name, given)
    except Unresolvable:
        return False
    # Autouse fixtures of a narrower scope than the session would be skipped: not early.
    for name in info.initialnames:
        if name not in info.argnames and name not in given and _fixturedef(item, name).scope != "session":
            return False
    return True


class _Fixtures:
    """The fixtures of one item, built in its thread; generators are closed in reverse."""

    def __init__(self, item: pytest.Function, given: Given) -> None:
        self.item = item
        self.values: dict[str, Any] = {**given, **_params(item)}
        self._open: list[Generator[Any, Any, Any]] = []

    def build(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        fd = _fixturedef(self.item, name)
        value = fd.func(**{dep: self.build(dep) for dep in fd.argnames})
        if inspect.isgenerator(value):
            gen = value
            value = next(gen)
            self._open.append(gen)
        self.values[name] = value
        return value

    def close(self) -> BaseException | None:
        first: BaseException | None = None
        for gen in reversed(self._open):
            try:
                next(gen)
            except StopIteration:
                continue
            except BaseException as exc:
                first = first or exc
                continue
            first = first or pytest.fail.Exception(f"fixture of {self.item.nodeid} yielded twice", pytrace=False)
        return first


def run_item(item: pytest.Function, given: Given) -> Outcome:
    """Build the item's fixtures, run its body and close its fixtures, as pytest would."""
    out = Outcome()
    fx = _Fixtures(item, given)
    with working(item.nodeid):
        try:
            args = {name: fx.build(name) for name in item._fixtureinfo.argnames}
        except BaseException as exc:
            out.setup = exc
        else:
            try:
                item.obj(**args)
            except BaseException as exc:
                out.call = exc
        out.teardown = fx.close()
    out.values = fx.values
    return out


def near(round_trip: float) -> bool:
    """A target this close leaves only the CPU to share (NEAR_ROUND_TRIP_SECONDS)."""
    return round_trip < NEAR_ROUND_TRIP_SECONDS


def width(concurrency: int, round_trip: float) -> int:
    """How many early scenarios run at once (see POOL_LIMIT, NEAR_ROUND_TRIP_SECONDS)."""
    return 1 if near(round_trip) else min(POOL_LIMIT, concurrency)


class Pool:
    """The early scenarios of one session: started in item order, `width` at a time."""

    def __init__(self, width: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=width, thread_name_prefix="scenario")
        self._futures: dict[str, Future[Outcome]] = {}

    def start(self, item: pytest.Function, given: Callable[[pytest.Item], Given]) -> None:
        def job() -> Outcome:
            if stopping.is_set():  # interrupted: what has not begun is not begun
                return Outcome(setup=pytest.skip.Exception("not_run: the run was interrupted"))
            return run_item(item, given(item))

        self._futures[item.nodeid] = self._executor.submit(job)

    def outcome(self, item: pytest.Item) -> Outcome | None:
        """The item's outcome (waiting for it), None when it was not started early."""
        fut = self._futures.get(item.nodeid)
        return fut.result() if fut is not None else None

    def close(self) -> None:
        """Scenarios not begun are dropped; those running finish (their waits are bounded)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


def replay_setup(item: pytest.Function, out: Outcome) -> None:
    """In pytest's setup: the item's fixtures are the values they had in its thread,
    or the error building them raised. pytest fills an item's fixtures in order and
    skips those already in `funcargs`, so the later ones are not built again."""
    if out.setup is not None:
        raise out.setup
    funcargs = item.funcargs
    for name, value in out.values.items():
        funcargs.setdefault(name, value)
