"""Where a generated run's time goes: wall and CPU seconds per stretch of it.

The generated run is the longest single part of a default conformance run, so
its summary (results.json `generated.timings`) says what each stretch cost:
loading the schema, each schemathesis phase, the judging. CPU is the whole
client process's (`time.process_time`, every thread): in a full run other
areas share that process, so only a run of `--only generated` reads it as the
generated run's own, and stretches that ran beside each other (a far
target's stateful sequences beside the other phases) each count the CPU of
both; the server's CPU is in another process and not counted.
"""

from __future__ import annotations

import time


class Laps:
    """Named stretches in order; a stretch lasts from the previous mark to the next `lap`."""

    def __init__(self, suffix: str = "") -> None:
        self.laps: dict[str, dict[str, float]] = {}
        self.suffix = suffix  # added to every name (stretches that ran beside others')
        self._wall = time.monotonic()
        self._cpu = time.process_time()

    def lap(self, name: str) -> None:
        """End the current stretch as `name` (added to an earlier one of that name)."""
        wall, cpu = time.monotonic(), time.process_time()
        if wall - self._wall < 0.0005 and name + self.suffix not in self.laps:  # a phase that did not run
            self._wall, self._cpu = wall, cpu
            return
        seen = self.laps.setdefault(name + self.suffix, {"wall": 0.0, "cpu": 0.0})
        seen["wall"] = round(seen["wall"] + wall - self._wall, 3)
        seen["cpu"] = round(seen["cpu"] + cpu - self._cpu, 3)
        self._wall, self._cpu = wall, cpu

    def mark(self) -> None:
        """Start a new stretch here, dropping the time since the last mark."""
        self._wall, self._cpu = time.monotonic(), time.process_time()
