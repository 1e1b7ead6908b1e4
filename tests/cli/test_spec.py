"""`leasecheck spec contract-check`: exit 0, 1 and 2 as a CI job reads them."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from leasecheck.cli.spec import OPENAPI, spec_group


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(spec_group, ["contract-check", *args])
    return r.exit_code, r.output


def test_our_spec_does_not_contradict_itself():
    code, out = run(str(OPENAPI))
    assert code == 0, out


def test_a_field_we_make_nullable_contradicts_a_contract_that_never_is(tmp_path: Path):
    ours = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    lease = ours["components"]["schemas"]["LeaseData"]["properties"]["lease_expires_at"]
    lease["type"] = [lease.get("type", "string"), "null"]
    edited = tmp_path / "openapi.yaml"
    edited.write_text(yaml.safe_dump(ours), encoding="utf-8")
    (tmp_path / "requirements.yaml").write_text((OPENAPI.parent / "requirements.yaml").read_text(encoding="utf-8"))
    code, out = run(str(OPENAPI), "--ours", str(edited))
    assert code == 1
    assert any("CONTRADICTION" in ln and "lease_expires_at" in ln and "null" in ln for ln in out.splitlines()), out


def test_a_missing_file_is_a_usage_error():
    code, out = run("/nonexistent/openapi.yaml")
    assert code == 2 and "no such file" in out
