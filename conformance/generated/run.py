"""What one generated run saw, and what was found, per requirement.

The scenario module (`conformance/scenarios/test_generated.py`) turns a
`GeneratedRun` into one test item per requirement in `REQUIREMENTS`: failed
with the findings' evidence, passed when requests exercised it and none
contradicted it, `not_run` when none exercised it. `summary()` is the
coverage section results.json carries under `generated`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from leasecheck.conformance.target import LicenseFixture
from leasecheck.core.client import Exchange, license_auth
from leasecheck.specs import openapi

from .observation import Observation
from .operations import RUNTIME, SYSTEM

#: Every requirement a generated run can judge, in the order the tests report them.
REQUIREMENTS = (
    "INPUT-04",
    "ENV-04",
    "ENV-01",
    "INPUT-01",
    "INPUT-02",
    "INPUT-03",
    "IDEM-01",
    "IDEM-02",
    "AUTH-01",
    "AUTH-03",
    "LIFE-01",
    "CHK-03",
    "SYS-01",
    "SYS-02",
    "SYS-03",
    "SYS-04",
    "LIFE-03",
    "LIFE-05",
    "TIME-02",
    "CHK-02",
    "INPUT-05",
)


@dataclass
class Finding:
    """A failed observation under one requirement."""

    requirement: str
    kind: str  # groups findings for the report, e.g. "not_a_server_error: Server error (checkout)"
    message: str
    evidence: list[Exchange]


@dataclass
class GeneratedRun:
    """Everything one generated run saw, judged per requirement."""

    fixture: LicenseFixture
    #: The suite made the license (management access): nobody else holds its seats.
    provisioned: bool = False
    observations: list[Observation] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    exercised: Counter[str] = field(default_factory=Counter)  # requirement -> observations judged
    notes: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    tolerated: Counter[str] = field(default_factory=Counter)  # why a schemathesis failure was dropped
    raw_failures: Counter[str] = field(default_factory=Counter)  # check name -> failures schemathesis reported
    errors: list[str] = field(default_factory=list)  # engine errors: the run could not complete
    network_errors: list[str] = field(default_factory=list)  # requests the target never answered
    stopped_early: bool = False
    interrupted: bool = False  # the engine was stopped by Ctrl-C or SIGTERM
    wall_seconds: float = 0.0
    seed: int = 0
    max_examples: int = 0
    workers: int = 1  # schemathesis workers: requests in flight at once
    #: Wall and CPU seconds per stretch (schema, engine, each phase, judge): laps.py.
    timings: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def auth(self) -> str:
        """The Authorization value of the run's license: what a request must carry to be valid."""
        return license_auth(self.fixture.license_key)["Authorization"]

    def failed(self, rid: str) -> list[Finding]:
        return [f for f in self.findings if f.requirement == rid]

    def fail(self, rid: str, kind: str, message: str, *evidence: Exchange) -> None:
        self.findings.append(Finding(rid, kind, message, list(evidence)))

    def summary(self) -> dict[str, Any]:
        """The coverage summary results.json carries under `generated`."""
        statuses: dict[str, Counter[str]] = defaultdict(Counter)
        wrong_method: dict[str, Counter[str]] = defaultdict(Counter)
        probed_methods: set[str] = set()
        phases: Counter[str] = Counter()
        for o in self.observations:
            phases[o.phase] += 1
            key = "none" if o.status is None else str(o.status)
            if o.documented_method:
                statuses[o.operation][key] += 1
            else:
                wrong_method[o.operation][key] += 1
                probed_methods.add(o.exchange.method)
        documented = _documented_statuses()
        not_seen = {
            op: sorted(s for s in documented.get(op, ()) if str(s) not in statuses.get(op, {}))
            for op in (*RUNTIME, *SYSTEM)
        }
        return {
            "seed": self.seed,
            "max_examples": self.max_examples,
            "workers": self.workers,
            "wall_seconds": round(self.wall_seconds, 3),
            "timings": self.timings,
            "cases_run": len(self.observations),
            "cases_by_phase": dict(phases),
            "statuses": {op: dict(sorted(c.items())) for op, c in sorted(statuses.items())},
            "unsupported_methods": {
                "methods": sorted(probed_methods),
                "statuses": {op: dict(sorted(c.items())) for op, c in sorted(wrong_method.items())},
            },
            "documented_not_seen": {op: v for op, v in not_seen.items() if v},
            "failures_by_check": dict(sorted(self.raw_failures.items())),
            "failures_by_requirement": dict(sorted(Counter(f.requirement for f in self.findings).items())),
            "tolerated": dict(sorted(self.tolerated.items())),
            "exercised": dict(sorted(self.exercised.items())),
            "stopped_early": self.stopped_early,
            "errors": self.errors[:10],
            "network_errors": self.network_errors[:10],
        }


def _documented_statuses() -> dict[str, list[int]]:
    out = {}
    for item in openapi()["paths"].values():
        for _method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                out[op["operationId"]] = sorted(int(s) for s in op.get("responses", {}) if s.isdigit())
    return out
