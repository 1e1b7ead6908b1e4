"""`leasecheck gallery`: its options are checked before the first case starts."""

from __future__ import annotations

from pathlib import Path

from .conftest import leasecheck


def test_jobs_below_one_is_exit_2():
    ran = leasecheck("gallery", "--jobs", "0")
    assert ran.code == 2 and "--jobs must be at least 1, not 0" in ran.one_error_line()


def test_an_update_readme_without_its_block_is_refused_before_the_run(tmp_path: Path):
    readme = tmp_path / "README.md"
    readme.write_text("# no generated block here\n")
    ran = leasecheck("gallery", "--update-readme", str(readme), "--report-dir", str(tmp_path / "r"))
    assert ran.code == 2 and "is not a file with a generated block" in ran.one_error_line()
