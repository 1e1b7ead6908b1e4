"""The fault gallery's matrix: the suite catches every fault and passes every
honest variant.

For every fault of reference_server/faults.py, `leasecheck conformance`
against a server started with `--fault NAME` (selecting the areas of the
requirements the fault documents) must exit 1 and mark at least those
requirement IDs failed in results.json. For the default server and every
honest variant (`--variant NAME`, the whole suite) it must exit 0 with no
MUST failure.

Every case is a server subprocess plus a conformance subprocess (the suite is
pytest in-process, so it never runs inside this pytest). The matrix runs once
per session, a few cases at a time, and each case is then its own test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leasecheck.reference_server import gallery
from leasecheck.reference_server.faults import FAULTS
from leasecheck.reference_server.settings import VARIANTS, Behaviour, Settings
from leasecheck.specs import catalogue, requirements

#: Cases at a time. Each is mostly waiting (lease windows, timelines); on a
#: 2-core CI machine three keep the cores busy without starving the timing
#: scenarios (which report not_run, never a false failure, when disturbed).
JOBS = int(os.environ.get("LEASECHECK_GALLERY_JOBS", gallery.DEFAULT_JOBS))
MATRIX_TIMEOUT = 1500

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------ the gallery itself
def test_at_least_twenty_faults_across_every_area():
    assert len(FAULTS) >= 20
    reqs = requirements()
    broken_areas = {reqs[rid]["area"] for f in FAULTS.values() for rid in f.breaks}
    assert broken_areas == set(catalogue()["areas"]), set(catalogue()["areas"]) - broken_areas


@pytest.mark.parametrize("name", list(FAULTS))
def test_every_fault_documents_real_requirements(name):
    f = FAULTS[name]
    reqs = requirements()
    assert f.breaks and all(rid in reqs for rid in f.breaks), f.breaks
    # A documented ID must be a MUST: only those make the suite exit 1.
    assert all(reqs[rid]["level"] == "MUST" for rid in f.breaks), f.breaks
    assert f.description and f.area in catalogue()["areas"]


def test_variants_choose_differently_and_honestly():
    assert len(VARIANTS) >= 5 and VARIANTS["default"] == Behaviour()
    for name, behaviour in VARIANTS.items():
        assert behaviour.problems() == [], name
        if name != "default":
            assert behaviour != Behaviour(), f"variant {name} is the default"


def test_no_fault_by_default():
    assert Settings().fault == ""
    assert all("--fault" not in c.server_args for c in gallery.variant_cases())


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    return subprocess.run(
        [sys.executable, "-m", "leasecheck.cli", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_list_faults_prints_the_table():
    proc = _cli("serve", "--list-faults")
    assert proc.returncode == 0, proc.stderr
    for f in FAULTS.values():
        assert f.name in proc.stdout and ",".join(f.breaks) in proc.stdout


def test_unknown_fault_is_one_line_listing_the_names(tmp_path):
    proc = _cli("serve", "--fault", "no-such-fault", "--db", str(tmp_path / "x.db"), "--port", "0")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown fault 'no-such-fault'" in lines[0]
    assert all(name in lines[0] for name in FAULTS)


def test_unknown_variant_is_refused(tmp_path):
    proc = _cli("serve", "--variant", "sloppy", "--db", str(tmp_path / "x.db"), "--port", "0")
    assert proc.returncode == 2
    assert "unknown variant 'sloppy'" in proc.stderr and "status-403" in proc.stderr


# ------------------------------------------------------------------ the matrix
@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, gallery.Outcome]:
    root = tmp_path_factory.mktemp("gallery")
    started = time.monotonic()
    outcomes = gallery.run_matrix(gallery.all_cases(), root, jobs=JOBS)
    doc = gallery.summary(outcomes, time.monotonic() - started, JOBS)
    md, _ = gallery.write_report(doc, root)
    print(
        f"\nfault gallery: {doc['caught']}/{doc['faults']} caught, {doc['variants_passed']}/{doc['variants']} "
        f"variants passed, {doc['wall_seconds']:.0f} s wall ({JOBS} at a time); {md}"
    )
    return {f"{o.case.kind}:{o.case.name}": o for o in outcomes}


def _explain(o: gallery.Outcome) -> str:
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


@pytest.mark.timeout(MATRIX_TIMEOUT)
def test_report_is_written(matrix):
    o = next(iter(matrix.values()))
    root = Path(o.report_dir or ".").parent.parent
    doc = json.loads((root / "mutation-score.json").read_text(encoding="utf-8"))
    assert doc["faults"] == len(FAULTS) and doc["variants"] == len(VARIANTS)
    md = (root / "mutation-score.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in md for name in [*FAULTS, *VARIANTS])
