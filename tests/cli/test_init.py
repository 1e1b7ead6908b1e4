"""The `leasecheck` group: every command is listed without being imported."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from leasecheck.cli import COMMANDS, SECTIONS, cli

#: What a command's machinery pulls in; none of it is needed to print a command's help.
HEAVY = ("pytest", "locust", "schemathesis", "starlette", "uvicorn", "httpx", "jsonschema", "nacl", "yaml", "gevent")

#: Commands whose help still loads machinery, with the reason. Empty: every `--help` is light.
HEAVY_HELP: dict[str, str] = {}


def _modules_after(argv: list[str]) -> str:
    code = (
        "import sys\nfrom leasecheck.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - set(HEAVY_HELP)))
def test_a_commands_help_imports_none_of_its_machinery(name):
    """`leasecheck NAME --help` answers at once: the command imports what it needs when it runs."""
    out = _modules_after([name, "--help"])
    assert "Usage:" in out
    assert "HEAVY []" in out, out.splitlines()[-1]


def test_help_lists_every_command_and_imports_none():
    out = _modules_after(["--help"])
    for name in COMMANDS:
        assert f"  {name}" in out
    assert "HEAVY []" in out


def test_help_shows_each_command_once_under_its_section():
    out = _modules_after(["--help"])
    assert sum(map(len, SECTIONS.values())) == len(COMMANDS)  # no name in two sections
    at = [out.index(f"\n{title}:\n") for title in SECTIONS]
    assert at == sorted(at)
    for (title, rows), start, end in zip(SECTIONS.items(), at, [*at[1:], len(out)], strict=True):
        assert all(f"  {name}  " in out[start:end] for name in rows), title


def test_every_registered_command_loads_and_has_help():
    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_an_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2 and "No such command" in result.output
