"""`cli/errors.py`: click's own usage errors are one line too, exit 2."""

from __future__ import annotations

import pytest

from .conftest import leasecheck


@pytest.mark.parametrize(
    "args,says,help_of",
    [
        (["conformance", "--concurrency", "many"], "'many' is not a valid integer", "leasecheck conformance"),
        (["load"], "Missing argument 'PROFILE'", "leasecheck load"),
        (["conformance", "--no-such-flag"], "No such option '--no-such-flag'", "leasecheck conformance"),
        (["nope"], "No such command 'nope'", "leasecheck"),
    ],
)
def test_a_click_usage_error_is_one_line_and_exit_2(args, says, help_of):
    ran = leasecheck(*args)
    line = ran.one_error_line()
    assert ran.code == 2 and says in line and f"`{help_of} --help`" in line, line


def test_help_and_version_still_exit_0():
    assert leasecheck("--version").code == 0
    ran = leasecheck("conformance", "--help")
    assert ran.code == 0 and "Usage:" in ran.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["conformance", "--management-token", "t"],  # the target cannot be reached
        ["load", "seat-race", "--management-token", "t"],
    ],
    ids=["conformance", "load"],
)
def test_a_refusal_leaves_no_empty_report_dir(tmp_path, silent_target, args):
    """The default reports/<timestamp>/ was made (checked writable) before the target was
    found unreachable, and left behind empty by every refused run."""
    ran = leasecheck(*args, "--target", silent_target, cwd=tmp_path)
    assert ran.code == 2 and "cannot reach" in ran.one_error_line()
    assert not list(tmp_path.iterdir()), sorted(p.name for p in tmp_path.rglob("*"))


def test_a_refusal_keeps_a_report_dir_that_holds_something(tmp_path, silent_target):
    report = tmp_path / "mine"
    report.mkdir()
    (report / "notes.txt").write_text("kept")
    ran = leasecheck("conformance", "--target", silent_target, "--management-token", "t", "--report-dir", str(report))
    assert ran.code == 2 and (report / "notes.txt").read_text() == "kept"
