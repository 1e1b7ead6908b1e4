"""Profiles are found on disk (load/profiles/__init__.py): every bundled one
declares what the judge needs, and a new profile is one new folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from leasecheck.load.analysis.slo import parse_all
from leasecheck.load.config import LicenseGrant, LoadConfig, write_run_record
from leasecheck.load.profiles import PATH_ENV, discover
from leasecheck.load.profiles.profile import Profile
from leasecheck.load.reporting.report import write_reports
from leasecheck.load.verdict.judge import EXIT_INVALID, Facts, judge

TOY = Path(__file__).parent / "toy_profile" / "toy"
BUNDLED = {"churn", "heartbeat-storm", "retry-storm", "seat-race", "step", "thundering-herd"}


def test_the_bundled_profiles_are_discovered():
    assert set(discover()) >= BUNDLED


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_every_profile_declares_what_the_judge_needs(name, tmp_path):
    """Declared knobs, licenses and SLOs are usable, and the generic judge and
    report take the profile through a run that recorded nothing."""
    profile = discover()[name]
    assert isinstance(profile, Profile)
    assert profile.folder.name.replace("_", "-") == name and profile.locustfile.is_file()
    params = profile.knobs({})
    assert params == profile.defaults() and "timeout_minutes" in params
    profile.validate(params, duration=profile.default_duration, minute_seconds=1.0)
    parse_all(list(profile.default_slos))
    needs = profile.licenses(profile.default_users, params, 1.0)
    assert needs and all(n.seats >= 1 and n.timeout_minutes >= 1 and n.group for n in needs)

    shards = tmp_path / "shards"
    grants = [
        LicenseGrant(f"{n.group}:lic_{i}", f"lic_{i}", "", n.seats, n.timeout_minutes, n.group)
        for i, n in enumerate(needs)
    ]
    config = LoadConfig(name, "http://127.0.0.1:1", 1.0, 4, 3.0, str(shards), "r1", params, grants)
    write_run_record(shards, config.record())
    judgement = judge(shards, parse_all(list(profile.default_slos)), Facts())
    assert judgement.exit_code == EXIT_INVALID and "no lease operation was recorded" in judgement.summary["reasons"]
    assert judgement.profile is profile and judgement.summary["profile"] == name
    assert all(isinstance(line, str) for line in profile.headline(judgement.summary))
    write_reports(tmp_path, judgement)
    assert f"<h2>Profile: {name}</h2>" in (tmp_path / "report.html").read_text()


def _profile_path(tmp_path: Path) -> dict[str, str]:
    """A search path holding one folder: the toy profile, copied as it is."""
    extra = tmp_path / "profiles"
    shutil.copytree(TOY, extra / "toy", ignore=shutil.ignore_patterns("__pycache__"))
    return {PATH_ENV: str(extra)}


def test_a_new_profile_is_one_new_folder(server, tmp_path, leasecheck, load_run):
    env = _profile_path(tmp_path)
    assert "toy  " in leasecheck("load", "--help", env=env, timeout=60).stdout
    assert "hold_seconds" in leasecheck("load", "toy", "--param", "list", env=env, timeout=60).stdout
    bad = leasecheck("load", "toy", "--param", "hold_seconds=0", env=env, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "leasecheck: error: --param hold_seconds must be a finite number greater than 0, not 0"
    )
    missing = leasecheck("load", "toy", "--param", "list", timeout=60)
    assert missing.returncode == 2 and "unknown profile 'toy'" in missing.stderr

    run = load_run("toy", "--users", "4", "--duration", "3s", server=server, env=env)
    run.assert_passed_or_generator_bound()
    s = run.summary
    assert s["profile"] == "toy" and s["invariants"]["operations_judged"] > 0
    assert s["profile_details"]["cycles"] > 0, "the toy's own analysis is in the summary"
    assert s["invariants"]["seat_violations"] == [] and "toy" in (run.out / "report.html").read_text()


def test_a_folder_that_is_not_a_profile_is_one_line(tmp_path, leasecheck):
    broken = tmp_path / "profiles" / "broken"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('"""Not a profile: no PROFILE."""\n')
    proc = leasecheck("load", "seat-race", "--param", "list", env={PATH_ENV: str(broken.parent)}, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        "leasecheck: error: load profile folder broken/: "
        "its __init__.py sets no PROFILE (an instance of a Profile subclass)"
    )
