"""What the HTML page says, in the order a vendor acts on it.

The order is the point: the verdict, in words that match how it was reached
(an excused failure is named, never folded into "passed"); then what fails
the run (MUST failures, each with the catalogue's words and the exchanges
that prove it); then warnings; then the whole matrix; coverage last. The
template only lays this out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from leasecheck.conformance.verdict import NO_CHECK

from .exchange import ExchangeView, view_exchange
from .spec_text import RequirementText, area_text, requirement_text

_LEVEL_ORDER = {"MUST": 0, "SHOULD": 1, "MAY": 2}


def id_key(rid: str) -> tuple[Any, ...]:
    """Natural order of ids: SIG-2 before SIG-10, areas alphabetically."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", rid))


def level_then_id(req: dict[str, Any]) -> tuple[Any, ...]:
    return (_LEVEL_ORDER.get(req.get("level", ""), 9), id_key(req["id"]))


def blocks_run(req: dict[str, Any]) -> bool:
    """A MUST that nobody checked fails the run just as a failure does (see verdict.run_outcome)."""
    return req["outcome"] == "not_run" and req["level"] == "MUST" and req.get("reason") in (None, NO_CHECK)


@dataclass(frozen=True)
class Observation:
    """One failing observation: what was seen, by which test, and the exchanges behind it."""

    message: str
    test: str
    exchanges: list[ExchangeView]


@dataclass(frozen=True)
class Finding:
    """A requirement the reader has to act on (a failure, an excused failure, a warning)."""

    req: dict[str, Any]
    text: RequirementText
    kind: str  # "failed" | "excused" | "unchecked" | "warning"
    observations: list[Observation]

    @property
    def id(self) -> str:
        return str(self.req["id"])


@dataclass(frozen=True)
class Verdict:
    """The headline: one word, its tone, and the sentence that says how it was reached."""

    word: str  # PASSED | FAILED
    tone: str  # css class: passed | failed | excused
    qualifiers: list[str]
    sentence: str


@dataclass
class Page:
    results: dict[str, Any]
    verdict: Verdict
    failures: list[Finding]  # what fails the run: MUST failures, then MUSTs no check ran for
    excused: list[Finding]  # MUST failures the expected-failures file excuses
    warnings: list[Finding]
    areas: list[tuple[str, str, list[dict[str, Any]]]]  # (area, its description, requirements)
    has_card: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def verdict_of(results: dict[str, Any], failures: list[Finding], warnings: list[Finding]) -> Verdict:
    """Say what the outcome rests on. A pass that only holds because failures are excused
    says so in the headline itself, and a partial run says how partial it is."""
    word = str(results["outcome"]).upper()
    failed = [f for f in failures if f.kind == "failed"]
    unchecked = [f for f in failures if f.kind == "unchecked"]
    excused = [f for f in failures if f.kind == "excused"]
    qualifiers = []
    if excused:
        qualifiers.append(f"{_plural(len(excused), 'excused failure')}")
    cov = results.get("coverage") or {}
    if cov and not cov.get("complete", True):
        q = cov["requirements"]
        qualifiers.append(f"partial: {q['checked']} of {q['total']} requirements checked")
    parts = []
    if results.get("interrupted"):
        parts.append("The run was interrupted before every scenario finished, so it cannot pass.")
    if failed:
        parts.append(f"{_plural(len(failed), 'MUST requirement')} failed: " + ", ".join(f.id for f in failed) + ".")
    if unchecked:
        parts.append(
            f"{_plural(len(unchecked), 'selected MUST requirement')} had no check that ran: "
            + ", ".join(f.id for f in unchecked)
            + "."
        )
    if excused:
        ids = ", ".join(f.id for f in excused)
        if word == "PASSED":
            parts.append(
                f"The run passes only because {_plural(len(excused), 'MUST failure is', 'MUST failures are')} "
                f"excused by the expected-failures file ({ids}); the target still does not meet "
                f"{'it' if len(excused) == 1 else 'them'}."
            )
        else:
            parts.append(f"Also excused by the expected-failures file: {ids}.")
    if word == "PASSED" and not excused:
        parts.append("Every checked MUST requirement held.")
    if cov and cov.get("complete"):
        parts.append(f"All {cov['requirements']['total']} requirements were checked.")
    if warnings:
        parts.append(f"{_plural(len(warnings), 'warning')} (SHOULD or MAY): " + ", ".join(w.id for w in warnings) + ".")
    tone = "failed" if word != "PASSED" else ("excused" if excused else "passed")
    return Verdict(word, tone, qualifiers, " ".join(parts))


def _observations(base_url: str, req: dict[str, Any]) -> list[Observation]:
    out = []
    for e in req.get("evidence") or []:
        views = [view_exchange(base_url, x) for x in e.get("exchanges") or [] if isinstance(x, dict)]
        out.append(Observation(str(e.get("message", "")), str(e.get("test") or ""), views))
    return out


def _finding(base_url: str, req: dict[str, Any], kind: str) -> Finding:
    return Finding(req, requirement_text(req["id"], req["level"]), kind, _observations(base_url, req))


#: Keys Verdict.to_json leaves out when empty; the page reads them all.
_OPTIONAL: dict[str, Any] = {"tests": [], "evidence": [], "notes": [], "reason": None, "expected_failure": None}


def _with_defaults(req: dict[str, Any]) -> dict[str, Any]:
    return {**_OPTIONAL, **req}


def build_page(results: dict[str, Any]) -> Page:
    """Everything the template shows, derived from results.json and the catalogue."""
    reqs = [_with_defaults(r) for r in results.get("requirements") or []]
    base_url = str((results.get("target") or {}).get("url") or "")
    failed = sorted((r for r in reqs if r["outcome"] == "failed" and not r.get("expected_failure")), key=level_then_id)
    unchecked = sorted((r for r in reqs if blocks_run(r)), key=level_then_id)
    excused = sorted((r for r in reqs if r["outcome"] == "failed" and r.get("expected_failure")), key=level_then_id)
    warned = sorted((r for r in reqs if r["outcome"] == "warning"), key=level_then_id)
    failures = [_finding(base_url, r, "failed") for r in failed] + [
        _finding(base_url, r, "unchecked") for r in unchecked
    ]
    excuses = [_finding(base_url, r, "excused") for r in excused]
    warnings = [_finding(base_url, r, "warning") for r in warned]
    areas: dict[str, list[dict[str, Any]]] = {}
    for r in reqs:
        areas.setdefault(r["area"], []).append(r)
    counts = {o: sum(1 for r in reqs if r["outcome"] == o) for o in ("passed", "failed", "warning", "not_run")}
    counts["excused"] = len(excused)
    return Page(
        results=results,
        verdict=verdict_of(results, failures + excuses, warnings),
        failures=failures,
        excused=excuses,
        warnings=warnings,
        areas=[(a, area_text(a), rs) for a, rs in areas.items()],
        has_card={f.id for f in failures + excuses + warnings},
        counts=counts,
    )


def row_id(rid: str, page: Page) -> str:
    """The matrix row's element id. Every requirement owns `#<ID>`: its card when it has
    one (the row is then `#row-<ID>`), else its matrix row; so every link to an id lands."""
    return f"row-{rid}" if rid in page.has_card else rid
