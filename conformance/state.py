"""What one conformance run accumulates, from the first hook to the reports.

The plugin keeps one `RunState` per pytest session (in the config's stash)
and every part of a run writes into it. Each field is typed and says who
writes it, so that a reader sees everything a run carries into its verdict
and results.json, and nothing travels in an untyped bag.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from leasecheck.core.client import Exchange
from leasecheck.core.envelope import Finding
from leasecheck.core.server_process import ReferenceServer

from .coverage import Coverage
from .expect import Record
from .settings import Settings
from .target import Target, working_for
from .verdict import TestResult


@dataclass
class RunState:
    """One run: its settings, the server under test, what was judged and what is reported."""

    settings: Settings
    started_at: float = field(default_factory=time.time)

    # The server under test (start.py).
    target: Target | None = None
    server: ReferenceServer | None = None  # the bundled reference server, while it runs
    server_version: str | None = None  # results.json target.server_version
    server_header: str | None = None  # its Server header, as /health answered
    setup_error: str | None = None  # why the run could not start (exit 2)

    # What was judged: the plugin's hooks, `expect` and the universal checks of every answer.
    current: str | None = None  # node id of the scenario running now
    tests: dict[str, TestResult] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    observed_ok: Counter[str] = field(default_factory=Counter)  # universal requirements seen to hold
    deselected: set[str] = field(default_factory=set)  # requirements whose checks -k/--only left out
    coverage: Coverage = field(default_factory=Coverage)
    selected: set[str] = field(default_factory=set)  # requirements the selected scenarios judge (plan.py)

    # Sections other modules add to what is reported.
    #: results.json `generated`: the generated run's summary (scenarios/test_generated.py); empty: it did not run.
    generated: dict[str, Any] = field(default_factory=dict)
    #: The verdict block of the terminal summary (results.finish_run).
    summary_lines: list[str] = field(default_factory=list)
    #: The last line of the run's output: the verdict (results.closing_line).
    closing_line: str | None = None

    lock: threading.Lock = field(default_factory=threading.Lock)

    def judged(self) -> tuple[int, int]:
        """How many of the selected requirements have been judged so far (progress.py)."""
        with self.lock:
            seen = set(self.observed_ok) | {r.requirement for r in self.records}
        seen |= {rid for t in list(self.tests.values()) for rid in t.requirements}
        return len(seen & self.selected), len(self.selected)

    def current_test(self) -> str | None:
        """The scenario the calling thread works for: its own when it was started early
        (target/attribution.py), else the one pytest runs now."""
        return working_for() or self.current

    def on_finding(self, ex: Exchange, findings: list[Finding]) -> None:
        """Every answer's universal checks (envelope.py): a failure becomes a record of the
        scenario that sent it, a pass is counted."""
        self.coverage.observe(ex)
        with self.lock:
            for f in findings:
                if f.ok:
                    self.observed_ok[f.requirement] += 1
                else:
                    self.records.append(Record(f.requirement, False, f.message, [ex.evidence()], self.current_test()))
