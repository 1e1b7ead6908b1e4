"""The fault gallery's matrix: the suite catches every fault and passes every
honest variant.

For every fault of the gallery (leasecheck/gallery/registry.py), `leasecheck
conformance` against a gallery server started with `--fault NAME` (selecting the areas of the
requirements the fault documents) must exit 1 and mark at least those
requirement IDs failed in results.json. For the default server and every
honest variant (`--variant NAME`, the whole suite) it must exit 0 with no
MUST failure and no warning the default server does not earn too.

Every case is a server subprocess plus a conformance subprocess (the suite is
pytest in-process, so it never runs inside this pytest). The matrix runs once
per session, a few cases at a time, and each case is then its own test.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from leasecheck.gallery import score
from leasecheck.gallery.matrix import DEFAULT_JOBS, Case, Outcome, all_cases, missed, run_matrix
from leasecheck.gallery.registry import FAULTS
from leasecheck.gallery.variants import VARIANTS

#: Cases at a time. Each is mostly waiting (lease windows, timelines); on a
#: 2-core CI machine three keep the cores busy without starving the timing
#: scenarios (which report not_run, never a false failure, when disturbed).
JOBS = int(os.environ.get("LEASECHECK_GALLERY_JOBS", DEFAULT_JOBS))
MATRIX_TIMEOUT = 1500

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------ the matrix
@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    root = tmp_path_factory.mktemp("gallery")
    started = time.monotonic()
    outcomes = run_matrix(all_cases(), root, jobs=JOBS)
    doc = score.summary(outcomes, time.monotonic() - started, JOBS)
    md, _ = score.write_report(doc, root)
    print(
        f"\nfault gallery: {doc['caught']}/{doc['faults']} caught, {doc['variants_passed']}/{doc['variants']} "
        f"variants passed, {doc['wall_seconds']:.0f} s wall ({JOBS} at a time); {md}"
    )
    return {f"{o.case.kind}:{o.case.name}": o for o in outcomes}


def _explain(o: Outcome) -> str:
    log = Path(o.report_dir or ".") / "conformance.log"
    tail = log.read_text("utf-8", "replace")[-2500:] if log.is_file() else ""
    return (
        f"{o.case.kind} {o.case.name}: exit {o.exit_code}, failed {o.failed}, missed {o.missed}, "
        f"error {o.error}\nreport {o.report_dir}\n{tail}"
    )


@pytest.mark.timeout(MATRIX_TIMEOUT)
@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_is_caught(matrix, name):
    o = matrix[f"fault:{name}"]
    assert o.error is None, _explain(o)
    assert o.exit_code == 1, _explain(o)
    assert not o.missed, f"documented requirement(s) {o.missed} not failed\n" + _explain(o)


@pytest.mark.timeout(MATRIX_TIMEOUT)
@pytest.mark.parametrize("name", list(VARIANTS))
def test_honest_variant_passes(matrix, name):
    o = matrix[f"variant:{name}"]
    assert o.error is None, _explain(o)
    assert o.exit_code == 0 and not o.failed, _explain(o)
    assert not o.choice_warnings, f"the honest choice was warned: {o.choice_warnings}\n" + _explain(o)


@pytest.mark.timeout(MATRIX_TIMEOUT)
def test_report_is_written(matrix):
    o = next(iter(matrix.values()))
    root = Path(o.report_dir or ".").parent.parent
    doc = json.loads((root / "mutation-score.json").read_text(encoding="utf-8"))
    assert doc["faults"] == len(FAULTS) and doc["variants"] == len(VARIANTS)
    md = (root / "mutation-score.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in md for name in [*FAULTS, *VARIANTS])


def test_an_any_of_fault_is_caught_by_one_of_its_requirements():
    """Only a fault whose bug shows as whichever requirement the drawing reaches first is
    caught by one of them; every other fault must fail all it documents."""
    both = Case("fault", "f", (), 1.0, ("explore",), ("EXPL-01", "EXPL-02"))
    either = Case("fault", "f", (), 1.0, ("explore",), ("EXPL-01", "EXPL-02"), any_of=True)
    assert missed(both, ["EXPL-01"]) == ["EXPL-02"]
    assert missed(either, ["EXPL-01"]) == [] and missed(either, ["EXPL-02", "ENV-01"]) == []
    assert missed(either, ["ENV-01"]) == ["EXPL-01", "EXPL-02"]
    cases = {c.name: c for c in all_cases()}
    assert [n for n, c in cases.items() if c.any_of] == [n for n, f in FAULTS.items() if f.any_of]
