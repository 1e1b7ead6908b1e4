"""The `leasecheck` group: every command is listed without being imported."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from leasecheck.cli import COMMANDS, cli


def test_help_lists_every_command_and_imports_none():
    code = (
        "import sys\nfrom leasecheck.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pytest', 'locust', 'schemathesis', 'starlette', 'httpx') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for name in COMMANDS:
        assert f"  {name}" in out
    assert "HEAVY []" in out


def test_every_registered_command_loads_and_has_help():
    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_an_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2 and "No such command" in result.output
