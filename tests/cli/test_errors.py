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
