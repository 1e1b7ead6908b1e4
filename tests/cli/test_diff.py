"""`leasecheck diff`: an output file that cannot be written is exit 2, one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import leasecheck


@pytest.mark.parametrize("flag", ["--junit", "--json"])
def test_an_output_that_cannot_be_written_is_exit_2(one_run: Path, flag: str):
    """It used to end in a FileNotFoundError (exit 3)."""
    ran = leasecheck("diff", str(one_run), str(one_run), flag, "/proc/nope/x.out")
    assert ran.code == 2 and f"{flag} '/proc/nope/x.out' cannot be written" in ran.one_error_line()
