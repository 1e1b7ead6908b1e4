"""A repeated event, logged as one line per interval with a count.

Under overload the same thing happens thousands of times a second (an accept
that fails with EMFILE, a connection shed or timed out). One log line each
is what made stderr grow by ~127 MB in 35 s; the first occurrence of a quiet
period is logged at once, the rest are counted and summed up in one line at
the end of each interval while they keep coming.
"""

from __future__ import annotations

import asyncio
import logging

INTERVAL_SECONDS = 10.0


class Tally:
    """Counts one kind of event; logs the first at once and then at most one line per interval."""

    def __init__(self, logger: logging.Logger, what: str, interval: float = INTERVAL_SECONDS) -> None:
        self.logger = logger
        self.what = what
        self.interval = interval
        self.total = 0
        self._pending = 0
        self._last = ""
        self._window: asyncio.TimerHandle | None = None

    def record(self, loop: asyncio.AbstractEventLoop, detail: str) -> None:
        """Count one event; `detail` says what the latest one was."""
        self.total += 1
        self._last = detail
        if self._window is None:  # a quiet period ends: say so now, count what follows
            self.logger.warning("%s: %s (repeats are counted, one line per %g s)", self.what, detail, self.interval)
            self._window = loop.call_later(self.interval, self._flush, loop)
        else:
            self._pending += 1

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._pending:
            self._window = None
            return
        self.logger.warning(
            "%s: %d more in the last %g s (latest: %s)", self.what, self._pending, self.interval, self._last
        )
        self._pending = 0
        self._window = loop.call_later(self.interval, self._flush, loop)
