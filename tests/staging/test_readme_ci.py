"""The CI jobs the README documents are valid YAML, keep the reports as
artifacts, always run cleanup, and use only flags leasecheck has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from leasecheck.cli import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def _jobs() -> list[dict]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## CI gates", 1)[1].split("\n## ", 1)[0]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)]


def _commands(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj] if "leasecheck " in obj else []
    if isinstance(obj, dict):
        return [c for v in obj.values() for c in _commands(v)]
    if isinstance(obj, list):
        return [c for v in obj for c in _commands(v)]
    return []


def test_readme_has_a_github_and_a_gitlab_job():
    github, gitlab = _jobs()
    gh = github["jobs"]["lease-conformance"]
    assert "secrets.LICENSING_STAGING_TOKEN" in gh["env"]["LEASECHECK_MANAGEMENT_TOKEN"]
    upload = [s for s in gh["steps"] if "upload-artifact" in str(s.get("uses", ""))]
    assert upload and upload[0]["if"] == "always()" and "reports/conformance" in upload[0]["with"]["path"]
    assert any("leasecheck cleanup" in str(s.get("run", "")) and s.get("if") == "always()" for s in gh["steps"])
    gl = gitlab["lease-conformance"]
    assert gl["artifacts"]["when"] == "always" and gl["artifacts"]["reports"]["junit"].endswith("junit.xml")
    assert any("leasecheck cleanup" in c for c in gl["after_script"])


def test_readme_jobs_use_only_real_flags():
    for command in {c for job in _jobs() for c in _commands(job)}:
        for line in command.splitlines():
            m = re.search(r"leasecheck (\w+)(.*)", line)
            if not m:
                continue
            sub, rest = m.group(1), m.group(2)
            help_text = CliRunner().invoke(cli, [sub, "--help"]).output
            for flag in re.findall(r"(--[a-z][a-z-]+)", rest):
                assert flag in help_text, f"README uses `leasecheck {sub} {flag}`, which does not exist"
