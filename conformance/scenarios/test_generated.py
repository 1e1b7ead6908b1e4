"""generated: schemathesis-generated requests, positive, negative and stateful, under requirement IDs.

One schemathesis run per session (examples, coverage, fuzzing and stateful
sequences through the OpenAPI links) against the target with a fresh
200-seat license; seeded, deterministic, bounded. Each requirement it can
judge is its own test item, so one MUST failure never hides another, and a
requirement the run did not exercise is `not_run`, never a vacuous pass.
How each schemathesis check maps to a requirement, and which schemathesis
false positives are tolerated and why, is `RULES` in
`conformance/generated/triage.py`; the own checks over the whole run are in
`conformance/generated/invariants.py`.
"""

from __future__ import annotations

import pytest

from leasecheck.conformance.expect import RequirementFailed
from leasecheck.conformance.generated import REQUIREMENTS, Finding, GeneratedRun, run_generated
from leasecheck.conformance.needs import License
from leasecheck.conformance.plugin import state_of
from leasecheck.conformance.target import NotRunnable

SEATS = 200  # fuzzing never checks leases in
TIMEOUT_MINUTES = 5
EVIDENCE_PER_KIND = 2
KINDS_SHOWN = 4


#: One license for the whole module (the `generated` fixture is module-scoped).
pytestmark = pytest.mark.licenses(License(seats=SEATS, minutes=TIMEOUT_MINUTES, scope="module"))


@pytest.fixture(scope="module")
def generated(target, request) -> GeneratedRun:
    s = target.settings
    if s.generated_examples == 0:
        pytest.skip("not_run: generated requests are switched off (generated-examples = 0)")
    try:
        fixture = target.license(seats=SEATS, timeout_minutes=TIMEOUT_MINUTES, purpose="generated")
    except NotRunnable as exc:
        pytest.skip(f"not_run: {exc}")
    run = run_generated(target, fixture, seed=s.seed, max_examples=s.generated_examples)
    state_of(request.config).generated.update(run.summary())
    return run


@pytest.mark.parametrize("rid", [pytest.param(r, id=r, marks=pytest.mark.requirement(r)) for r in REQUIREMENTS])
def test_generated(generated: GeneratedRun, expect, rid: str) -> None:
    if generated.errors:
        # The engine could not finish its work: say so rather than pass on part of it.
        raise AssertionError("the generated run did not complete: " + "; ".join(generated.errors[:3]))
    findings = generated.failed(rid)
    if not findings and not generated.exercised[rid]:
        pytest.skip(f"not_run: no generated request exercised {rid} on this target")
    if generated.stopped_early:
        expect.note(
            rid,
            f"the generated run stopped at its time budget after {generated.wall_seconds:.0f} s; "
            "what it sent was judged",
        )
    for note in sorted(set(generated.notes.get(rid, [])))[:3]:
        expect.note(rid, note)
    if not findings:
        expect.note(
            rid, f"{generated.exercised[rid]} generated requests judged (seed {generated.seed}), none contradicted it"
        )
        return
    # One record per kind of failure, each with its own evidence; a MUST failure raises only
    # after all of them are recorded.
    kinds: dict[str, list[Finding]] = {}
    for f in findings:
        kinds.setdefault(f.kind, []).append(f)
    first: RequirementFailed | None = None
    for _kind, group in list(kinds.items())[:KINDS_SHOWN]:
        exchanges = [ex for f in group[:EVIDENCE_PER_KIND] for ex in f.evidence]
        more = f" (and {len(group) - 1} more like it)" if len(group) > 1 else ""
        try:
            expect(rid, False, f"{group[0].message}{more}", *exchanges)
        except RequirementFailed as exc:
            first = first or exc
    if len(kinds) > KINDS_SHOWN:
        expect.note(
            rid, f"{len(kinds) - KINDS_SHOWN} more kinds of failure not shown: " + ", ".join(list(kinds)[KINDS_SHOWN:])
        )
    if first is not None:
        raise RequirementFailed(
            rid, f"{len(findings)} generated request(s) contradict it; first: {findings[0].message}"
        )
