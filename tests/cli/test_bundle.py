"""`leasecheck keygen`: the README's own example path works when its folder is missing."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner

from leasecheck.cli.bundle import keygen_command


def test_keygen_makes_missing_folders_privately(tmp_path: Path):
    key = tmp_path / "does" / "not" / "exist" / "signing.key"
    result = CliRunner().invoke(keygen_command, [str(key)])
    assert result.exit_code == 0, result.output
    assert json.loads(key.read_text())["public_key"] in result.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700


def test_keygen_never_overwrites(tmp_path: Path):
    key = tmp_path / "k"
    assert CliRunner().invoke(keygen_command, [str(key)]).exit_code == 0
    again = CliRunner().invoke(keygen_command, [str(key)])
    assert again.exit_code == 2 and "already exists" in again.output
