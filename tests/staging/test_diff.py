"""Acceptance 3: `leasecheck diff` as a CI gate, on two real runs (the second
against a server with an injected fault), and `conformance --baseline`."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from xml.etree import ElementTree as ET

from click.testing import CliRunner

from leasecheck.cli.diff import diff
from leasecheck.conformance.diff import compare, render_junit, render_text

from .conftest import cli_env, run_cli


def test_diff_names_the_newly_failing_requirement_and_fails_the_gate(status_runs, tmp_path: Path):
    junit, js = tmp_path / "diff.xml", tmp_path / "diff.json"
    proc = run_cli(
        "diff",
        str(status_runs.good / "results.json"),
        str(status_runs.faulty / "results.json"),
        "--junit",
        str(junit),
        "--json",
        str(js),
        env=cli_env(tmp_path),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NEWLY FAILING  STAT-01 [MUST]" in proc.stdout
    assert "gate: FAILED" in proc.stdout and "STAT-01" in proc.stdout.splitlines()[-1]
    doc = json.loads(js.read_text())
    assert doc["gate"] == "failed" and doc["new_must_failures"] == ["STAT-01"]
    assert [c["id"] for c in doc["newly_failing"]] == ["STAT-01"] and doc["fixed"] == []
    suite = ET.parse(junit).getroot()
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert len(failed) == 1 and failed[0].startswith("STAT-01 [MUST]")


def test_diff_in_reverse_names_it_fixed_and_passes(status_runs, tmp_path: Path):
    proc = run_cli(
        "diff", str(status_runs.faulty), str(status_runs.good), env=cli_env(tmp_path)
    )  # report dirs work too
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FIXED          STAT-01 [MUST]" in proc.stdout and "NEWLY FAILING" not in proc.stdout
    assert "gate: passed" in proc.stdout


def test_conformance_with_baseline_diffs_in_one_step(status_runs):
    proc, faulty = status_runs.faulty_proc, status_runs.faulty
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "NEWLY FAILING  STAT-01 [MUST]" in proc.stdout
    assert json.loads((faulty / "diff.json").read_text())["new_must_failures"] == ["STAT-01"]
    assert (faulty / "diff-junit.xml").is_file()


def test_expected_failures_file_stays_honest(status_runs):
    results = json.loads((status_runs.faulty / "results.json").read_text())
    by_id = {r["id"]: r for r in results["requirements"]}
    assert by_id["STAT-01"]["outcome"] == "failed" and "expected_failure" not in by_id["STAT-01"]
    assert results["outcome"] == "failed"  # the expired entry excuses nothing
    messages = " | ".join(results["messages"])
    assert "STAT-01: expected-failure entry expired on 2001-01-01" in messages
    assert "STAT-02: listed as an expected failure but now passes" in messages


def _results(outcomes: dict[str, tuple[str, str]], server_version: str | None = None) -> dict:
    return {
        "run_id": "r",
        "outcome": "passed",
        "target": {"server_version": server_version},
        "suite": {"version": "0", "spec_digest": "d"},
        "requirements": [
            {"id": rid, "level": level, "title": rid, "outcome": out} for rid, (level, out) in outcomes.items()
        ],
    }


def test_changes_on_the_same_server_version_are_flaky_and_still_gate():
    old = _results({"A-1": ("MUST", "passed"), "B-1": ("SHOULD", "passed"), "C-1": ("MUST", "passed")}, "1.4.2")
    new = _results({"A-1": ("MUST", "failed"), "B-1": ("SHOULD", "warning"), "C-1": ("MUST", "not_run")}, "1.4.2")
    d = compare(old, new)
    assert [c.id for c in d.flaky] == ["A-1", "B-1"] and not d.newly_failing
    assert [c.id for c in d.coverage_lost] == ["C-1"]  # not a flaky outcome: the check did not run
    assert d.gate_failed and [c.id for c in d.new_must_failures] == ["A-1"]
    other = copy.deepcopy(new)
    other["target"]["server_version"] = "1.4.3"
    d2 = compare(old, other)
    assert [c.id for c in d2.newly_failing] == ["A-1"] and [c.id for c in d2.new_warnings] == ["B-1"] and not d2.flaky


def test_new_warnings_and_excused_failures_do_not_fail_the_gate():
    old = _results({"A-1": ("MUST", "passed"), "B-1": ("SHOULD", "passed")})
    new = _results({"A-1": ("MUST", "failed"), "B-1": ("SHOULD", "warning")})
    new["requirements"][0]["expected_failure"] = "known, ticket 42"
    d = compare(old, new)
    assert not d.gate_failed and [c.id for c in d.new_warnings] == ["B-1"]
    assert [(c.id, c.new) for c in d.changed] == [("A-1", "xfail")]


def test_a_run_that_checks_less_is_coverage_lost_and_exits_4(tmp_path: Path):
    old = _results({"A-1": ("MUST", "passed"), "B-1": ("SHOULD", "passed"), "C-1": ("MUST", "failed")})
    new = _results({"A-1": ("MUST", "not_run"), "B-1": ("SHOULD", "not_run"), "C-1": ("MUST", "not_run")})
    d = compare(old, new)
    assert [c.id for c in d.coverage_lost] == ["A-1", "B-1", "C-1"] and not d.gate_failed
    assert [c.id for c in d.must_coverage_lost] == ["A-1", "C-1"]
    assert d.exit_code() == 4 and d.exit_code(allow_coverage_loss=True) == 0
    assert "gate: COVERAGE LOST" in render_text(d) and d.to_json()["gate"] == "coverage_lost"
    assert render_junit(d).count("<failure") == 2
    for name, doc in (("old.json", old), ("new.json", new)):
        (tmp_path / name).write_text(json.dumps(doc))
    cli = [str(tmp_path / "old.json"), str(tmp_path / "new.json")]
    assert CliRunner().invoke(diff, cli).exit_code == 4
    allowed = CliRunner().invoke(diff, [*cli, "--allow-coverage-loss"])
    assert allowed.exit_code == 0
    gate = allowed.output.splitlines()[-1]  # the gate line says the exit it gives
    assert gate.startswith("gate: passed") and "--allow-coverage-loss" in gate and "exit 4" not in gate, gate
    shrink_should_only = compare(_results({"B-1": ("SHOULD", "passed")}), _results({"B-1": ("SHOULD", "not_run")}))
    assert shrink_should_only.exit_code() == 0  # only MUST coverage gates


def test_diff_refuses_what_is_not_a_results_file(tmp_path: Path):
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    for args in ([str(bad), str(bad)], [str(tmp_path / "missing.json"), str(bad)]):
        proc = run_cli("diff", *args, env=cli_env(tmp_path))
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_diff_refuses_a_results_file_whose_values_it_cannot_compare(tmp_path: Path):
    """An outcome outside the four was compared as a state of its own: a MUST that
    went from passed to 5 passed the gate. A target that is no object was an
    internal error (AttributeError, exit 3)."""
    good = _results({"A-1": ("MUST", "passed"), "B-1": ("SHOULD", "passed")})
    (tmp_path / "good.json").write_text(json.dumps(good))
    cases = {
        "outcome": ({"A-1": ("MUST", 5)}, {}, "requirement 'A-1': outcome 5 is not one of passed, failed"),
        "level": ({"A-1": ("must", "passed")}, {}, "requirement 'A-1': level 'must' is not one of MUST, SHOULD, MAY"),
        "target": ({"A-1": ("MUST", "passed")}, {"target": "staging"}, "'target' is not an object"),
    }
    for name, (requirements, extra, says) in cases.items():
        bad = tmp_path / f"{name}.json"
        bad.write_text(json.dumps({**_results(requirements), **extra}))
        for args in ([str(tmp_path / "good.json"), str(bad)], [str(bad), str(tmp_path / "good.json")]):
            proc = run_cli("diff", *args, env=cli_env(tmp_path))
            lines = proc.stderr.strip().splitlines()
            assert proc.returncode == 2 and len(lines) == 1 and says in lines[0], proc.stderr
            assert "not a leasecheck results.json" in lines[0] and "internal error" not in proc.stderr
