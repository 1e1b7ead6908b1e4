"""`leasecheck cleanup`: says so when nothing is pending, instead of printing nothing."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from leasecheck.cli.cleanup import cleanup

from .conftest import leasecheck


def test_list_with_nothing_pending_says_so(tmp_path: Path):
    result = CliRunner().invoke(cleanup, ["--list", "--state-dir", str(tmp_path / "state")])
    assert result.exit_code == 0
    assert "no run is pending cleanup" in result.output and str(tmp_path / "state") in result.output


def test_no_run_id_is_a_usage_error(tmp_path: Path):
    result = CliRunner().invoke(cleanup, ["--state-dir", str(tmp_path)])
    assert result.exit_code == 2 and "--run-id" in result.output


def test_cleanup_checks_its_target_and_timeout_like_the_other_commands(tmp_path: Path):
    ran = leasecheck("cleanup", "--run-id", "r1", "--state-dir", str(tmp_path), "--target", "http://256.1.1.1:80")
    assert ran.code == 2 and "'256.1.1.1' is not a valid IPv4 address" in ran.one_error_line()
    ran = leasecheck("cleanup", "--run-id", "r1", "--state-dir", str(tmp_path), "--request-timeout", "inf")
    assert ran.code == 2 and "--request-timeout must be a finite number greater than 0" in ran.one_error_line()


def test_a_token_no_header_can_carry_is_exit_2(tmp_path: Path):
    """It used to reach the ledger lookup, and with a ledger end in a UnicodeEncodeError (exit 3)."""
    ran = leasecheck(
        "cleanup", "--run-id", "r1", "--state-dir", str(tmp_path), env={"LEASECHECK_MANAGEMENT_TOKEN": "tökén-token"}
    )
    line = ran.one_error_line()
    assert ran.code == 2 and "management token" in line and "character 2 is not ASCII" in line, line
    assert "tökén" not in ran.output
