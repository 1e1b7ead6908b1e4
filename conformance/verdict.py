"""From test outcomes and records to one verdict per requirement.

A requirement passes only if a check for it ran and nothing contradicted it;
an unexpected error in a test counts against the requirements it declared;
a requirement nobody checked is `not_run` with the reason.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from leasecheck.core.inputs import parse_problem
from leasecheck.specs import requirements

from .expect import Record

OUTCOMES = ("passed", "failed", "warning", "not_run")
#: The one not_run reason that is no reason: a selected MUST nobody checked fails the run.
NO_CHECK = "no check ran for it"


@dataclass
class TestResult:
    nodeid: str
    requirements: list[str]
    outcome: str  # passed | failed | error | skipped
    duration: float = 0.0
    message: str | None = None  # failure text or skip reason
    failed_requirement: str | None = None  # set when a RequirementFailed stopped it


@dataclass
class Verdict:
    id: str
    level: str
    area: str
    title: str
    outcome: str
    tests: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str | None = None
    expected_failure: str | None = None  # reason from the expected-failures file

    def to_json(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if v not in (None, [], "")}
        d["outcome"] = self.outcome
        return d


MAX_EVIDENCE = 4


def judge(
    tests: list[TestResult],
    records: list[Record],
    *,
    selected_areas: set[str] | None,
    observed_ok: dict[str, int],
    deselected: AbstractSet[str] = frozenset(),
) -> list[Verdict]:
    catalogue = requirements()
    by_req_tests: dict[str, list[TestResult]] = {}
    for t in tests:
        for rid in t.requirements:
            by_req_tests.setdefault(rid, []).append(t)
    by_req_records: dict[str, list[Record]] = {}
    for r in records:
        by_req_records.setdefault(r.requirement, []).append(r)

    verdicts = []
    for rid, req in catalogue.items():
        v = Verdict(id=rid, level=req["level"], area=req["area"], title=req["title"], outcome="not_run")
        ts = by_req_tests.get(rid, [])
        rs = by_req_records.get(rid, [])
        v.tests = sorted({t.nodeid for t in ts} | {r.test for r in rs if r.test and not r.ok})
        bad = [r for r in rs if not r.ok]
        good = [r for r in rs if r.ok]
        v.notes = sorted({r.message for r in good if r.message})[:5]
        errored = [t for t in ts if t.outcome in ("failed", "error") and t.failed_requirement is None]
        if bad:
            v.outcome = "failed" if req["level"] == "MUST" else "warning"
            for r in bad[:MAX_EVIDENCE]:
                v.evidence.append({"test": r.test, "message": r.message, "exchanges": r.evidence})
            if len(bad) > MAX_EVIDENCE:
                v.notes.append(f"{len(bad) - MAX_EVIDENCE} more failing observations not shown")
        elif errored:
            v.outcome = "failed" if req["level"] == "MUST" else "warning"
            for t in errored[:MAX_EVIDENCE]:
                v.evidence.append({"test": t.nodeid, "message": f"the check could not complete: {t.message}"})
        elif any(t.outcome == "passed" for t in ts) or good or observed_ok.get(rid):
            v.outcome = "passed"
            if observed_ok.get(rid):
                v.notes.append(f"checked on {observed_ok[rid]} answers")
        else:
            skipped = [t for t in ts if t.outcome == "skipped"]
            stopped = [t for t in ts if t.failed_requirement]
            if skipped:
                v.reason = "; ".join(sorted({t.message or "skipped" for t in skipped}))
            elif stopped:
                v.reason = "not reached: " + "; ".join(
                    sorted({f"{t.nodeid} stopped at the failure of {t.failed_requirement}" for t in stopped})
                )
            elif selected_areas is not None and req["area"] not in selected_areas:
                v.reason = "area not selected (--only)"
            elif rid in deselected:
                v.reason = "not selected (-k or --only)"
            elif req["level"] == "MAY":
                v.reason = "informative (MAY): nothing observed"
            else:
                v.reason = NO_CHECK
        verdicts.append(v)
    return verdicts


@dataclass
class ExpectedFailure:
    id: str
    reason: str
    expires: date | None = None


def load_expected_failures(path: Path) -> list[ExpectedFailure]:
    """The file as documented (a YAML list of {id, reason, expires?}, or a mapping with
    that list under `expected_failures`); anything else is a `SettingsError` naming the
    entry. Unknown fields are refused: `expire:` for `expires:` would excuse a failure forever."""
    from .settings import SettingsError

    where = f"expected-failures file {str(path)!r}"
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{where} cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{where} is not valid YAML: {parse_problem(exc)}") from None
    except ValueError as exc:  # YAML read 2020-13-45 as a date, and no such date exists
        raise SettingsError(f"{where} holds a date that does not exist ({exc}); write it YYYY-MM-DD") from None
    if isinstance(raw, dict):
        if set(raw) != {"expected_failures"}:
            raise SettingsError(f"{where} must be a list of {{id, reason, expires?}} (or expected_failures: [...])")
        raw = raw["expected_failures"]
    raw = [] if raw is None else raw
    if not isinstance(raw, list):
        raise SettingsError(f"{where} must be a list of {{id, reason, expires?}}")
    known = requirements()
    out: list[ExpectedFailure] = []
    for i, e in enumerate(raw, 1):
        entry = f"{where}: entry {i}"
        if not isinstance(e, dict):
            raise SettingsError(f"{entry} must be a mapping {{id, reason, expires?}}")
        unknown = sorted(set(map(str, e)) - {"id", "reason", "expires"})
        if unknown:
            raise SettingsError(f"{entry}: unknown field(s) {', '.join(unknown)}; the fields are id, reason, expires")
        if not isinstance(e.get("id"), str):
            raise SettingsError(f"{entry} has no id (a requirement id such as CAP-02)")
        if not isinstance(e.get("reason"), str) or not e["reason"].strip():
            raise SettingsError(f"{entry} ({e['id']}) has no reason")
        if e["id"] not in known:
            raise SettingsError(f"{entry}: unknown requirement {e['id']!r} (see specs/requirements.yaml)")
        if any(x.id == e["id"] for x in out):
            raise SettingsError(f"{entry}: {e['id']} is listed twice")
        exp = e.get("expires")
        if isinstance(exp, str):
            try:
                exp = date.fromisoformat(exp)
            except ValueError:
                exp = None
        if e.get("expires") is not None and not (isinstance(exp, date) and not isinstance(exp, datetime)):
            raise SettingsError(f"{entry} ({e['id']}): expires {e['expires']!r} is not a date YYYY-MM-DD")
        out.append(ExpectedFailure(e["id"], e["reason"], exp))
    return out


def apply_expected(verdicts: list[Verdict], expected: list[ExpectedFailure], today: date | None = None) -> list[str]:
    """Mark listed failures as expected; return messages that keep the file honest."""
    today = today or date.today()
    by_id = {v.id: v for v in verdicts}
    messages = []
    for e in expected:
        v = by_id[e.id]
        if e.expires is not None and e.expires < today:
            messages.append(f"{e.id}: expected-failure entry expired on {e.expires}; it no longer excuses the failure")
            continue
        if v.outcome == "failed":
            v.expected_failure = e.reason
        elif v.outcome == "passed":
            messages.append(f"{e.id}: listed as an expected failure but now passes; remove it from the file")
    return messages


def run_outcome(verdicts: list[Verdict]) -> str:
    if any(v.outcome == "failed" and not v.expected_failure for v in verdicts):
        return "failed"
    if any(v.outcome == "not_run" and v.level == "MUST" and v.reason in (None, NO_CHECK) for v in verdicts):
        return "failed"
    return "passed"
