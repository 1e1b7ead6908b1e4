"""`cli/errors.py`: click's own usage errors are one line too, exit 2; a stray
EOFError is ours, exit 3, not a user's "aborted"."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from leasecheck.cli.errors import INTERNAL_ERROR, PromptlessGroup, guarded

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


def run_group(cls: type[click.Group], error: BaseException, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """A group of `cls` whose one command raises `error`, run the way `leasecheck.cli.main` runs."""

    @click.group(cls=cls)
    def group() -> None:
        pass

    @group.command()
    def read() -> None:
        raise error

    with pytest.raises(SystemExit) as ended:
        guarded(lambda: group.main(args=["read"], prog_name="leasecheck", standalone_mode=False))
    code = ended.value.code
    assert isinstance(code, int)
    return code, capsys.readouterr().err


def test_a_stray_eof_error_is_an_internal_error_not_aborted(capsys):
    """A reader meeting a cut-off file raises EOFError (gzip does); click would say
    "aborted", exit 1, as for a Ctrl-D at a prompt, and leasecheck has no prompts."""
    code, err = run_group(PromptlessGroup, EOFError("Compressed file ended before the end-of-stream marker"), capsys)
    lines = err.splitlines()
    assert code == INTERNAL_ERROR, err
    assert len(lines) == 1 and lines[0].startswith("leasecheck: internal error: EOFError: Compressed file ended"), err
    log = Path(lines[0].rsplit("(details: ", 1)[1].rstrip(")"))
    try:
        assert "EOFError" in log.read_text(encoding="utf-8")
    finally:
        log.unlink()


def test_a_plain_click_group_would_call_it_aborted(capsys):
    """The contrast that shows the test above can fail: without PromptlessGroup."""
    code, err = run_group(click.Group, EOFError("cut off"), capsys)
    assert code == 1 and err.strip() == "leasecheck: aborted", err


def test_ctrl_c_is_still_aborted(capsys):
    code, err = run_group(PromptlessGroup, KeyboardInterrupt(), capsys)
    assert code == 1 and err.strip() == "leasecheck: aborted", err


def test_the_leasecheck_command_is_promptless():
    from leasecheck.cli import cli

    assert isinstance(cli, PromptlessGroup)
