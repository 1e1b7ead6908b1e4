"""How hard the run pushed: the races its concurrency scenarios sent.

A run on a shared server owes its host a statement of its load, and a
verdict on concurrency is only as strong as the races behind it (a lost
update that needs 48 contenders stays unseen with 8). So a scenario states
each race before sending it (`scenarios/_support.py: race`), and
results.json lists under `concurrency.scenarios`, per scenario: its widest
race, all the requests its races sent, and how many races it ran.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Races:
    """The races of one scenario (a test node id; None outside any test)."""

    test: str | None
    simultaneous: int
    requests: int
    races: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"test": self.test, "simultaneous": self.simultaneous, "requests": self.requests, "races": self.races}


class RaceLog:
    """Every scenario's races, in the order the scenarios first raced (thread-safe)."""

    def __init__(self) -> None:
        self._by_test: dict[str | None, Races] = {}
        self._lock = threading.Lock()

    def note(self, test: str | None, simultaneous: int, requests: int) -> None:
        with self._lock:
            seen = self._by_test.get(test)
            if seen is None:
                self._by_test[test] = Races(test, simultaneous, requests)
                return
            seen.simultaneous = max(seen.simultaneous, simultaneous)
            seen.requests += requests
            seen.races += 1

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_json() for r in self._by_test.values()]
