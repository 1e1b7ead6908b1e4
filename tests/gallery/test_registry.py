"""The gallery's registry: every fault documents real MUST requirements of an
area that exists, and is the correct server with exactly one part swapped for
a subclass from the module of its area; every variant is an honest Behaviour."""

from __future__ import annotations

import dataclasses
import inspect
import os
import subprocess
import sys

import pytest

from leasecheck.gallery import matrix
from leasecheck.gallery.faults import Bug, bug, bug_of
from leasecheck.gallery.registry import AREAS, FAULTS, UnknownCase, fault, variant, warning_line
from leasecheck.gallery.variants import VARIANTS
from leasecheck.reference_server.app import Parts
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.management import DEFAULT_TIMEOUT_MINUTES
from leasecheck.reference_server.settings import Behaviour, Settings
from leasecheck.specs import catalogue, requirements


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


@pytest.mark.parametrize("name", list(FAULTS))
def test_every_fault_is_one_part_from_the_module_of_its_area(name):
    f = FAULTS[name]
    default = Parts()
    swapped = [p.name for p in dataclasses.fields(Parts) if getattr(f.parts, p.name) is not getattr(default, p.name)]
    assert len(swapped) == 1, swapped
    part = getattr(f.parts, swapped[0])
    assert issubclass(part, getattr(default, swapped[0]))
    assert part.__module__ == f"leasecheck.gallery.faults.{f.area}"
    assert f.variant in VARIANTS


def test_a_fault_is_its_marked_class():
    """The table holds every class marked `@bug` in faults/, described by its docstring's first paragraph."""
    marked = {
        bug_of(cls).name: cls  # type: ignore[union-attr]
        for module in AREAS
        for cls in vars(module).values()
        if isinstance(cls, type) and cls.__module__ == module.__name__ and bug_of(cls)
    }
    assert set(marked) == set(FAULTS)
    for name, cls in marked.items():
        f = FAULTS[name]
        assert getattr(f.parts, _swapped(f)) is cls
        first = " ".join(inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].split())
        assert first.lower().startswith(f.description.lower()) and "\n" not in f.description
    # A description that quotes the server's default stays true to it.
    assert f"({DEFAULT_TIMEOUT_MINUTES} minutes)" in FAULTS["policy-timeout-ignored"].description


def test_an_unmarked_subclass_of_a_fault_is_not_a_fault():
    """`bug_of` reads a class's own mark: a helper base's subclass must be marked itself."""

    @bug("toy", "CAP-02")
    class Toy(Runtime):
        """A toy."""

    class Child(Toy):
        pass

    assert bug_of(Toy) == Bug("toy", ("CAP-02",)) and bug_of(Child) is None


def _swapped(f) -> str:
    default = Parts()
    (slot,) = [p.name for p in dataclasses.fields(Parts) if getattr(f.parts, p.name) is not getattr(default, p.name)]
    return slot


def test_variants_choose_differently_and_honestly():
    assert len(VARIANTS) >= 5 and VARIANTS["default"].behaviour == Behaviour()
    assert VARIANTS["default"].parts == Parts()
    for name, v in VARIANTS.items():
        assert v.name == name and v.note
        assert v.behaviour.problems() == [], name
        if name != "default":
            assert v.behaviour != Behaviour() or v.settings or v.parts != Parts(), f"variant {name} is the default"
        assert set(v.settings) <= {f.name for f in dataclasses.fields(Settings)}, name


def test_unknown_names_are_a_users_mistake():
    with pytest.raises(UnknownCase, match=r"unknown fault 'nope'; faults are: .*zombie-seats"):
        fault("nope")
    with pytest.raises(UnknownCase, match=r"unknown variant 'nope'; variants are: default, status-403"):
        variant("nope")
    assert UnknownCase("x").exit_code == 2


def test_warning_line_names_the_fault_and_what_it_breaks():
    line = warning_line(FAULTS["off-by-one-capacity"])
    assert line.startswith("WARNING: FAULT INJECTED: off-by-one-capacity")
    assert "CAP-02, CAP-04" in line and "\n" not in line


def test_the_reference_server_knows_no_fault():
    assert "fault" not in {f.name for f in dataclasses.fields(Settings)}
    assert all("--fault" not in c.server_args for c in matrix.variant_cases())
    proc = _run("leasecheck.reference_server", "serve", "--fault", "off-by-one-capacity", "--port", "0")
    assert proc.returncode == 2 and "No such option '--fault'" in proc.stderr


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("module", ["leasecheck.cli", "leasecheck.gallery"])
def test_list_faults_prints_the_table(module):
    proc = _run(module, "serve", "--list-faults")
    assert proc.returncode == 0, proc.stderr
    for f in FAULTS.values():
        assert f.name in proc.stdout and ",".join(f.breaks) in proc.stdout


@pytest.mark.parametrize("module", ["leasecheck.cli", "leasecheck.gallery"])
def test_unknown_fault_is_one_line_listing_the_names(tmp_path, module):
    proc = _run(module, "serve", "--fault", "no-such-fault", "--db", str(tmp_path / "x.db"), "--port", "0")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown fault 'no-such-fault'" in lines[0]
    assert all(name in lines[0] for name in FAULTS)


@pytest.mark.parametrize("module", ["leasecheck.cli", "leasecheck.gallery"])
def test_unknown_variant_is_refused(tmp_path, module):
    proc = _run(module, "serve", "--variant", "sloppy", "--db", str(tmp_path / "x.db"), "--port", "0")
    assert proc.returncode == 2
    assert "unknown variant 'sloppy'" in proc.stderr and "status-403" in proc.stderr
