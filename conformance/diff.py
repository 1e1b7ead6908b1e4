"""`leasecheck diff OLD NEW`: a CI gate on what changed between two runs.

A pipeline rarely wants "is everything green" (a staging server may carry
known failures) but "did this change break something": requirements newly
failing, newly passing, and flaky — an outcome that changed although both
runs record the same server version, so the server's code cannot be the
cause. Exit 1 when a MUST requirement fails that did not fail before
(flaky or not: the new run did fail it); SHOULD regressions are listed as
new warnings. An excused failure (expected-failures file) counts as "xfail",
not as a failure.

A gate that shrinks its own coverage must not pass quietly: a requirement
that was checked before and is `not_run` now (an inventory run after a full
one, a narrower `--only`, a lost management token) is "coverage lost", its
own category, and a MUST among them exits 4 (`EXIT_COVERAGE_LOST`) unless
the job says it accepts the narrower run.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

#: Outcomes of a check that ran; a change between two of them on the same server is flaky.
CHECKED = ("passed", "failed", "warning", "xfail")
#: Exit codes of the gate.
EXIT_PASSED, EXIT_NEW_MUST_FAILURE, EXIT_COVERAGE_LOST = 0, 1, 4


class ResultsError(ValueError):
    """A file is not a usable results.json; the message is the one-line reason."""


def load_results(path: Path) -> dict[str, Any]:
    """A results.json, or a report/bundle directory containing one."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: not JSON ({exc})") from None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("requirements"), list)
        and all(isinstance(r, dict) and {"id", "level", "outcome"} <= set(r) for r in data["requirements"])
    ):
        raise ResultsError(f"{path}: not a leasecheck results.json (no requirements with id, level, outcome)")
    problem = results_problem(data)
    if problem:
        raise ResultsError(f"{path}: not a leasecheck results.json ({problem})")
    return data


#: What a results.json may say of a requirement (a value outside these would be
#: compared as a state of its own, and an unknown outcome would pass the gate).
LEVELS = ("MUST", "SHOULD", "MAY")
OUTCOMES = ("passed", "failed", "warning", "not_run")


def results_problem(data: dict[str, Any]) -> str:
    """The first field the comparison reads that has the wrong shape, or ''."""
    for name in ("target", "suite"):
        if data.get(name) is not None and not isinstance(data[name], dict):
            return f"{name!r} is not an object"
    for i, r in enumerate(data["requirements"]):
        where = f"requirement {r['id']!r}" if isinstance(r["id"], str) else f"requirement {i + 1}"
        if not isinstance(r["id"], str) or not r["id"]:
            return f"{where}: 'id' is not a non-empty string"
        if r["level"] not in LEVELS:
            return f"{where}: level {r['level']!r} is not one of {', '.join(LEVELS)}"
        if r["outcome"] not in OUTCOMES:
            return f"{where}: outcome {r['outcome']!r} is not one of {', '.join(OUTCOMES)}"
        evidence = r.get("evidence")
        if evidence is not None and not (isinstance(evidence, list) and all(isinstance(e, dict) for e in evidence)):
            return f"{where}: 'evidence' is not a list of objects"
    return ""


def state(r: dict[str, Any] | None) -> str:
    """A requirement's outcome for comparison; an excused failure is 'xfail'."""
    if r is None:
        return "absent"
    if r["outcome"] == "failed" and r.get("expected_failure"):
        return "xfail"
    return str(r["outcome"])


@dataclass
class Change:
    id: str
    level: str
    title: str
    old: str
    new: str
    why: str = ""  # the new run's first evidence message, or its not_run reason

    def line(self, tag: str) -> str:
        tail = f": {self.why}" if self.why else ""
        return f"{tag:<14} {self.id} [{self.level}] {self.title} — was {self.old}, now {self.new}{tail}"[:400]


@dataclass
class Diff:
    old: dict[str, Any]
    new: dict[str, Any]
    newly_failing: list[Change] = field(default_factory=list)
    new_warnings: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)  # failed, warning or xfail -> passed
    newly_passing: list[Change] = field(default_factory=list)  # not_run or absent -> passed
    coverage_lost: list[Change] = field(default_factory=list)  # checked before, not_run now
    no_longer_run: list[Change] = field(default_factory=list)  # checked before, absent from the new spec
    flaky: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)  # anything else (e.g. failed -> xfail)
    unchanged: Counter = field(default_factory=Counter)
    same_server: bool = False

    @property
    def new_must_failures(self) -> list[Change]:
        return [c for c in self.newly_failing + self.flaky if c.level == "MUST" and c.new == "failed"]

    @property
    def gate_failed(self) -> bool:
        return bool(self.new_must_failures)

    @property
    def must_coverage_lost(self) -> list[Change]:
        return [c for c in self.coverage_lost if c.level == "MUST"]

    def exit_code(self, allow_coverage_loss: bool = False) -> int:
        """1 on a new MUST failure; else 4 when MUST requirements are no longer checked; else 0."""
        if self.gate_failed:
            return EXIT_NEW_MUST_FAILURE
        if self.must_coverage_lost and not allow_coverage_loss:
            return EXIT_COVERAGE_LOST
        return EXIT_PASSED

    def to_json(self) -> dict[str, Any]:
        def rows(cs: list[Change]) -> list[dict[str, Any]]:
            return [asdict(c) for c in cs]

        return {
            "old": self.old,
            "new": self.new,
            "same_server_version": self.same_server,
            "newly_failing": rows(self.newly_failing),
            "new_warnings": rows(self.new_warnings),
            "fixed": rows(self.fixed),
            "newly_passing": rows(self.newly_passing),
            "coverage_lost": rows(self.coverage_lost),
            "no_longer_run": rows(self.no_longer_run),
            "flaky": rows(self.flaky),
            "changed": rows(self.changed),
            "unchanged": dict(self.unchanged),
            "gate": "failed" if self.gate_failed else "coverage_lost" if self.must_coverage_lost else "passed",
            "new_must_failures": [c.id for c in self.new_must_failures],
            "must_coverage_lost": [c.id for c in self.must_coverage_lost],
        }


def _run_meta(results: dict[str, Any], path: Path) -> dict[str, Any]:
    target = results.get("target") or {}
    suite = results.get("suite") or {}
    return {
        "path": str(path),
        "run_id": results.get("run_id"),
        "started_at": results.get("started_at"),
        "outcome": results.get("outcome"),
        "server_version": target.get("server_version"),
        "target": target.get("url"),
        "suite_version": suite.get("version"),
        "spec_digest": suite.get("spec_digest"),
    }


def _why(r: dict[str, Any] | None) -> str:
    if r is None:
        return ""
    if r.get("evidence"):
        return str(r["evidence"][0].get("message", ""))
    return str(r.get("reason") or "")


def compare(
    old: dict[str, Any], new: dict[str, Any], old_path: Path = Path("OLD"), new_path: Path = Path("NEW")
) -> Diff:
    d = Diff(_run_meta(old, old_path), _run_meta(new, new_path))
    sv_old, sv_new = d.old["server_version"], d.new["server_version"]
    d.same_server = bool(sv_old) and sv_old == sv_new
    by_old = {r["id"]: r for r in old["requirements"]}
    by_new = {r["id"]: r for r in new["requirements"]}
    for rid in list(by_new) + [i for i in by_old if i not in by_new]:
        o, n = by_old.get(rid), by_new.get(rid)
        so, sn = state(o), state(n)
        if so == sn:
            d.unchanged[sn] += 1
            continue
        ref = n or o
        assert ref is not None
        c = Change(rid, ref["level"], ref.get("title", ""), so, sn, _why(n))
        if d.same_server and so in CHECKED and sn in CHECKED:
            d.flaky.append(c)
        elif sn == "failed":
            d.newly_failing.append(c)
        elif sn == "warning":
            d.new_warnings.append(c)
        elif sn == "passed" and so in ("failed", "warning", "xfail"):
            d.fixed.append(c)
        elif sn == "passed":
            d.newly_passing.append(c)
        elif sn == "not_run" and so in CHECKED:
            d.coverage_lost.append(c)
        elif sn in ("not_run", "absent"):
            d.no_longer_run.append(c)
        else:
            d.changed.append(c)
    return d


def render_text(d: Diff, allow_coverage_loss: bool = False) -> str:
    """The diff as a person reads it; its last line is the gate and the exit it gives."""

    def head(tag: str, m: dict[str, Any]) -> str:
        return (
            f"{tag}: run {m['run_id']} {m['started_at']} {str(m['outcome']).upper()}, "
            f"server {m['server_version'] or '(version not recorded)'}, suite {m['suite_version']}, "
            f"spec {str(m['spec_digest'])[:12]}"
        )

    lines = ["leasecheck diff", "  " + head("old", d.old), "  " + head("new", d.new)]
    if d.old["spec_digest"] != d.new["spec_digest"]:
        lines.append("  note: the runs used different specs; added or removed requirements show as 'absent'")
    lines += [c.line("NEWLY FAILING") for c in d.newly_failing]
    lines += [c.line("NEW WARNING") for c in d.new_warnings]
    lines += [c.line("FIXED") for c in d.fixed]
    lines += [c.line("NEWLY PASSING") for c in d.newly_passing]
    lines += [c.line("FLAKY") + f" (same server version {d.new['server_version']})" for c in d.flaky]
    lines += [c.line("CHANGED") for c in d.changed]
    lines += [c.line("COVERAGE LOST") for c in d.coverage_lost]
    lines += [c.line("NOT RUN NOW") for c in d.no_longer_run]
    total = sum(d.unchanged.values())
    parts = ", ".join(f"{n} {k}" for k, n in sorted(d.unchanged.items()))
    lines.append(f"unchanged: {total}" + (f" ({parts})" if parts else ""))
    if d.gate_failed:
        ids = ", ".join(c.id for c in d.new_must_failures)
        lines.append(f"gate: FAILED — {len(d.new_must_failures)} new MUST failure(s): {ids}")
    elif d.must_coverage_lost and allow_coverage_loss:
        lines.append(
            f"gate: passed — {len(d.must_coverage_lost)} MUST requirement(s) checked before are not run now, "
            "accepted by `--allow-coverage-loss`"
        )
    elif d.must_coverage_lost:
        lines.append(
            f"gate: COVERAGE LOST — {len(d.must_coverage_lost)} MUST requirement(s) checked before are not run now "
            f"(exit {EXIT_COVERAGE_LOST}; `--allow-coverage-loss` accepts a narrower run)"
        )
    else:
        lines.append(
            f"gate: passed — no new MUST failure ({len(d.fixed)} fixed, {len(d.newly_passing)} newly passing, "
            f"{len(d.new_warnings)} new warnings)"
        )
    return "\n".join(lines) + "\n"


def render_junit(d: Diff) -> str:
    """One testcase per changed requirement: a failure for each new MUST failure."""
    changes = (
        d.newly_failing
        + d.new_warnings
        + d.fixed
        + d.newly_passing
        + d.flaky
        + d.changed
        + d.coverage_lost
        + d.no_longer_run
    )
    failing = {c.id for c in d.new_must_failures}
    lost = {c.id for c in d.must_coverage_lost}
    suite = ET.Element(
        "testsuite",
        {
            "name": "leasecheck diff",
            "tests": str(len(changes)),
            "failures": str(len(failing | lost)),
            "errors": "0",
            "skipped": "0",
        },
    )
    props = ET.SubElement(suite, "properties")
    for k in ("run_id", "server_version", "spec_digest"):
        ET.SubElement(props, "property", {"name": f"old_{k}", "value": str(d.old[k])})
        ET.SubElement(props, "property", {"name": f"new_{k}", "value": str(d.new[k])})
    for c in changes:
        case = ET.SubElement(
            suite, "testcase", {"classname": "leasecheck.diff", "name": f"{c.id} [{c.level}] {c.old} -> {c.new}"}
        )
        if c.id in failing:
            ET.SubElement(case, "failure", {"message": f"newly failing: {c.why}"[:500]}).text = c.why
        elif c.id in lost:
            ET.SubElement(case, "failure", {"message": f"coverage lost: {c.why}"[:500]}).text = c.why
        else:
            ET.SubElement(case, "system-out").text = f"{c.old} -> {c.new}: {c.why}"
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def diff_files(old: Path, new: Path, *, junit: Path | None = None, json_out: Path | None = None) -> Diff:
    """Compare two results files, write the optional reports; ResultsError on bad input."""
    d = compare(load_results(old), load_results(new), old, new)
    for flag, path, render in (
        ("--junit", junit, lambda: render_junit(d)),
        ("--json", json_out, lambda: json.dumps(d.to_json(), indent=2, ensure_ascii=False) + "\n"),
    ):
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(), encoding="utf-8")
        except OSError as exc:
            raise ResultsError(f"{flag} {str(path)!r} cannot be written: {exc.strerror or exc}") from None
    return d
