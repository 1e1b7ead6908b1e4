"""`expect`: how a scenario states a verdict on a requirement.

The level comes from the catalogue, never from the test: `expect("CAP-02",
ok, why, exchange)` stops the test on a MUST failure and only records a
warning on a SHOULD. Every record carries the redacted exchanges that prove it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from leasecheck.core.client import Exchange
from leasecheck.specs import requirements


class RequirementFailed(AssertionError):
    """A MUST requirement failed; pytest shows the message."""

    def __init__(self, rid: str, message: str) -> None:
        super().__init__(f"{rid}: {message}")
        self.rid = rid


@dataclass
class Record:
    requirement: str
    ok: bool
    message: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    test: str | None = None


class Expect:
    """Bound to one test item; only the requirements the test declares may be judged."""

    def __init__(self, test: str, declared: Iterable[str], sink: list[Record]) -> None:
        self.test = test
        self.declared = set(declared)
        self.records = sink
        self._lock = threading.Lock()
        self._catalogue = requirements()

    def __call__(self, rid: str, condition: Any, message: str, *exchanges: Exchange | None) -> bool:
        if rid not in self.declared:
            raise KeyError(f"{self.test} judges {rid} but does not declare it in @requirement(...)")
        ok = bool(condition)
        rec = Record(
            rid, ok, "" if ok else message, [] if ok else [e.evidence() for e in exchanges if e is not None], self.test
        )
        with self._lock:
            self.records.append(rec)
        if not ok and self._catalogue[rid]["level"] == "MUST":
            raise RequirementFailed(rid, message)
        return ok

    def status(self, rid: str, ex: Exchange, allowed: Iterable[int], what: str) -> bool:
        """The answer's status is one of `allowed` (a transport failure never is)."""
        allowed = sorted(set(allowed))
        got = ex.error or ex.status
        return self(
            rid,
            ex.status in allowed,
            f"{what}: expected {' or '.join(map(str, allowed))}, got {got} ({ex.describe()})",
            ex,
        )

    def note(self, rid: str, message: str) -> None:
        """Positive evidence worth showing in the report (e.g. which variant was seen)."""
        with self._lock:
            self.records.append(Record(rid, True, message, [], self.test))
