"""Progress during long waits: what the run waits for, until when, and how far it is.

With real 60-second minutes an expiry scenario waits about a minute for a
lease to pass its `lease_expires_at`, and pytest prints nothing meanwhile.
On a terminal a status is drawn after pytest's own output while a scenario
has been running a while: "3 expiry scenarios waiting for leases to
expire, 41 s left (23 of 74 requirements judged)"; a narrow terminal cuts
it short from the end. The waits and their deadlines are
those `wait_until` is blocked on (core.timeutil.WAITS), local instants the
scenarios derived from the server's own timestamps. The status goes to the
terminal itself (/dev/tty): while a scenario runs pytest captures standard
output, and the status is no part of pytest's output. It is erased before
pytest writes anything (the plugin pauses it around pytest's reporting
hooks), so pytest's lines stay intact.

Off a terminal (CI logs) nothing is redrawn; one line per area says when
the area is done instead: once, when its last scenario is judged, with the
time into the run (areas overlap: scenarios start early side by side, so an
area's own duration would mean little).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import TextIO

import pytest

from leasecheck.core.timeutil import WAITS

#: A scenario running this long gets a status line; a quick one never flickers.
SHOW_AFTER_SECONDS = 1.0
#: How often the status is redrawn.
REDRAW_SECONDS = 0.5
#: Narrower than this after pytest's output, the status is not drawn.
MIN_WIDTH = 24


def waits_text(now: float | None = None) -> str | None:
    """'3 expiry scenarios waiting for leases to expire, 41 s left' for every kind
    of labelled wait under way (the time left is until the latest of them)."""
    now = time.time() if now is None else now
    groups: Counter[tuple[str, str]] = Counter()
    latest: dict[tuple[str, str], float] = {}
    for label, deadline in WAITS.snapshot():
        if not (isinstance(label, tuple) and len(label) == 2):
            continue
        key = (str(label[0]), str(label[1]))
        groups[key] += 1
        latest[key] = max(latest.get(key, deadline), deadline)
    parts = []
    for (area, what), n in sorted(groups.items()):
        left = max(0.0, latest[(area, what)] - now)
        parts.append(f"{n} {area} scenario{'s' if n != 1 else ''} waiting for {what}, {left:.0f} s left")
    return "; ".join(parts) or None


class Progress:
    """The live status of one session on a terminal, or its per-area lines off one."""

    def __init__(
        self, reporter: pytest.TerminalReporter, judged: Callable[[], tuple[int, int]], *, tty: TextIO | None
    ) -> None:
        self.reporter = reporter
        self.judged = judged  # -> (requirements judged so far, requirements selected)
        self.tty = tty  # the terminal the status is drawn on; None: per-area lines instead
        self.live = tty is not None
        self._lock = threading.RLock()
        self._shown = 0  # characters of status now on the screen
        self._paused = 0
        self._began = time.monotonic()  # when pytest reached the current scenario
        self._started = self._began  # when the session's scenarios were known
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._left: Counter[str] = Counter()  # scenarios of each area not judged yet
        self._count: Counter[str] = Counter()  # scenarios of each area

    # ------------------------------------------------------------- terminal
    def start(self) -> None:
        if self.live and self._thread is None:
            self._thread = threading.Thread(target=self._loop, daemon=True, name="leasecheck-progress")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * REDRAW_SECONDS)
        with self._lock:
            self._clear()
            if self.tty is not None:
                self.tty.close()
                self.tty = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Around pytest's own writing: the status is erased first and not redrawn meanwhile."""
        with self._lock:
            self._clear()
            self._paused += 1
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1

    def expect(self, areas: Iterable[str | None]) -> None:
        """The area of every selected scenario, once the session knows them."""
        names = [area or "other" for area in areas]
        self._left.update(names)
        self._count.update(names)

    def began(self) -> None:
        """pytest reaches a scenario (its status waits SHOW_AFTER_SECONDS)."""
        self._began = time.monotonic()

    def status(self) -> str:
        n, m = self.judged()
        waits = waits_text()
        judged = f"{n} of {m} requirements judged"
        return f"{waits} ({judged})" if waits else judged

    def _loop(self) -> None:
        while not self._stop.wait(REDRAW_SECONDS):
            if time.monotonic() - self._began < SHOW_AFTER_SECONDS:
                continue
            with self._lock:
                if self._paused or self._stop.is_set():
                    continue
                self._clear()
                room = self.reporter._tw.fullwidth - self.reporter._width_of_current_line - 3
                if room < MIN_WIDTH:
                    continue
                text = "  " + self.status()[:room]
                self._draw(text)
                self._shown = len(text)

    def _clear(self) -> None:
        if self._shown:
            # Back over the status, blank it, back again: pytest's line is as it was.
            n = self._shown
            self._draw("\b" * n + " " * n + "\b" * n)
            self._shown = 0

    def _draw(self, text: str) -> None:
        if self.tty is not None:
            self.tty.write(text)
            self.tty.flush()

    # ------------------------------------------------------------- per area
    def scenario_done(self, area: str | None) -> None:
        """Off a terminal: one line when the last scenario of an area is judged."""
        name = area or "other"
        self._left[name] -= 1
        if self.live or self._left[name] != 0:
            return
        n, m = self.judged()
        count = self._count[name]
        if self.reporter._width_of_current_line:  # after pytest's dots
            self.reporter.write("\n")
        self.reporter.write_line(
            f"leasecheck: {name} done: {count} scenario{'s' if count != 1 else ''}, "
            f"{time.monotonic() - self._started:.1f} s into the run; {n} of {m} requirements judged"
        )


class ProgressPlugin:
    """The pytest side of `Progress`: started once the scenarios are known, paused
    around every hook in which pytest's terminal reporter writes, stopped before
    the summary."""

    def __init__(self, judged: Callable[[], tuple[int, int]], area_of: Callable[[pytest.Item], str | None]) -> None:
        self.judged = judged
        self.area_of = area_of
        self.progress: Progress | None = None

    def _paused(self) -> contextlib.AbstractContextManager[None]:
        return self.progress.paused() if self.progress is not None else contextlib.nullcontext()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or session.config.option.collectonly:
            return
        self.progress = Progress(reporter, self.judged, tty=_terminal() if reporter.isatty() else None)
        self.progress.expect(self.area_of(item) for item in session.items)
        self.progress.start()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        if self.progress is not None:
            self.progress.began()
        try:
            return (yield)
        finally:
            if self.progress is not None:
                self.progress.scenario_done(self.area_of(item))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logstart(self) -> Iterator[None]:
        with self._paused():
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self) -> Iterator[None]:
        with self._paused():
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logfinish(self) -> Iterator[None]:
        with self._paused():
            return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        if self.progress is not None:
            self.progress.stop()

    def pytest_keyboard_interrupt(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _terminal() -> TextIO | None:
    """The controlling terminal, where the status is drawn; None without one."""
    try:
        return open("/dev/tty", "w", encoding="utf-8")  # closed by Progress.stop
    except OSError:
        return None
