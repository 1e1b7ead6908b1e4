"""`leasecheck cleanup`: says so when nothing is pending, instead of printing nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from leasecheck.cli.cleanup import cleanup
from leasecheck.core.client import Http
from leasecheck.core.ledger import Ledger

from .conftest import TOKEN, leasecheck


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


def _revokes_answered(base_url: str) -> int:
    with Http(base_url) as http:
        text = http.request("GET", "/metrics").response_body.decode()
    return sum(int(float(n)) for n in re.findall(r'route="[^"]*revoke[^"]*",[^}]*\} (\S+)', text))


def test_a_wrong_token_is_refused_before_any_revoke(server, tmp_path: Path):
    """It used to send every revoke, each answered 401, and exit 1 (`ledger kept`)."""
    ledger = Ledger.create(tmp_path / "runs", "r-wrong-token", {"target": server.base_url})
    for n in range(3):
        ledger.license(f"lic_{n}", f"lk_wrong_token_test_{n}", created=True)
    ledger.close()
    before = _revokes_answered(server.base_url)
    wrong = TOKEN[::-1]
    ran = leasecheck("cleanup", "--run-id", "r-wrong-token", "--state-dir", str(tmp_path), "--management-token", wrong)
    line = ran.one_error_line()
    assert ran.code == 2 and "the management token was refused" in line and "401" in line, line
    assert wrong not in ran.output and _revokes_answered(server.base_url) == before
    assert (tmp_path / "runs" / "r-wrong-token.jsonl").is_file()  # nothing done: the ledger stays


@pytest.mark.parametrize("args", [["--list"], ["--run-id", "r-torn"]])
def test_a_malformed_ledger_line_is_exit_2_with_its_line_number(tmp_path: Path, args: list[str]):
    """A whole JSON line with a wrong field used to be a KeyError (exit 3)."""
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "r-torn.jsonl").write_text(
        '{"v":1,"event":"run","run_id":"r-torn","target":"http://127.0.0.1:9"}\n'
        '{"v":1,"event":"license","license_id":5,"license_key":"lk_secret_in_ledger"}\n'
    )
    ran = leasecheck("cleanup", *args, "--state-dir", str(tmp_path))
    line = ran.one_error_line()
    assert ran.code == 2 and "r-torn.jsonl, line 2: a license event whose license_id is an int" in line, line
    assert "lk_secret_in_ledger" not in ran.output
