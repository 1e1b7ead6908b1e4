"""A non-editable install is the same import tree: every folder, every data file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install --no-deps --target DIR .`: the package as a user's machine gets it."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=target,
    )
    return target


def _run(installed: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env, cwd=installed
    )
    return out.stdout


def test_the_plugin_imports_from_the_installed_copy(installed: Path) -> None:
    out = _run(installed, "import leasecheck.conformance.plugin as p; print(p.__file__)")
    assert out.strip() == str(installed / "leasecheck" / "conformance" / "plugin.py")


def test_no_folder_lands_as_a_top_level_module(installed: Path) -> None:
    top = {p.name for p in installed.iterdir() if not p.name.endswith(".dist-info")}
    assert top <= {"leasecheck", "bin"}, top  # bin/: the console script


def test_data_files_are_installed(installed: Path) -> None:
    pkg = installed / "leasecheck"
    for rel in ("specs/openapi.yaml", "specs/requirements.yaml", "specs/schemas/Meta.json", "conformance/pytest.ini"):
        assert (pkg / rel).is_file(), rel
    assert any((pkg / "conformance" / "templates").iterdir())
    assert any((pkg / "load" / "reporting" / "templates").iterdir())
    assert (pkg / "load" / "profiles" / "step" / "section.html.j2").is_file()  # a profile's report section
