"""Acceptance 5: a signed results bundle verifies; one edited outcome, a swapped
key or a planted secret makes verification fail with a clear line."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import stat
import tarfile
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from leasecheck.conformance.bundle import load_signing_key

from .conftest import cli_env, run_cli


@pytest.fixture
def key(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "signing.key"
    proc = run_cli("keygen", str(path), env=cli_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    public = proc.stdout.strip()
    assert len(base64.b64decode(public)) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return path, public


@pytest.fixture
def bundle(status_runs, key, tmp_path: Path) -> Path:
    report = tmp_path / "report"
    shutil.copytree(status_runs.good, report)
    proc = run_cli("bundle", "--sign", str(key[0]), str(report), env=cli_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    return report / "bundle"


def verify(path: Path, *extra: str) -> tuple[int, list[str]]:
    proc = run_cli("verify", str(path), *extra, env=cli_env(path.parent))
    assert "Traceback" not in proc.stderr
    return proc.returncode, proc.stdout.splitlines()


def test_signed_bundle_verifies(bundle: Path, key, status_runs):
    assert sorted(p.name for p in bundle.iterdir()) == [
        "junit.xml",
        "manifest.json",
        "manifest.sig",
        "report.html",
        "results.json",
    ]
    manifest = json.loads((bundle / "manifest.json").read_text())
    results = json.loads((bundle / "results.json").read_text())
    assert manifest["suite"]["version"] == results["suite"]["version"]
    assert manifest["spec_digest"] == results["suite"]["spec_digest"] and len(manifest["spec_digest"]) == 64
    assert manifest["outcome"] == "passed" and manifest["counts"] == results["counts"]
    assert manifest["public_key"] == key[1]
    code, out = verify(bundle, "--public-key", key[1])
    assert code == 0, out
    assert out[-1].startswith("verified: run ") and "PASSED" in out[-1]
    # Never a license key or token inside: the servers' tokens, and key/token shapes.
    for f in bundle.iterdir():
        text = f.read_text(errors="replace")
        assert not any(t in text for t in status_runs.tokens), f
        assert not re.search(r"\blk_[A-Za-z0-9_\-]{16,}|llt_[A-Za-z0-9_\-]{8,}", text), f


def test_one_edited_outcome_fails_verification(bundle: Path):
    results = json.loads((bundle / "results.json").read_text())
    victim = next(r for r in results["requirements"] if r["outcome"] == "passed" and r["level"] == "MUST")
    victim["outcome"] = "failed"
    (bundle / "results.json").write_text(json.dumps(results, indent=2))
    code, out = verify(bundle)
    assert code == 1
    assert "FAIL  results.json: sha256 differs from the manifest (the file was changed after signing)" in out
    assert any(
        ln.startswith("FAIL  outcome: results.json claims 'passed' but its requirements imply 'failed'")
        and victim["id"] in ln
        for ln in out
    )
    assert out[-1].startswith("NOT VERIFIED")


def test_a_re_hashed_manifest_breaks_the_signature(bundle: Path):
    html = bundle / "report.html"
    before = html.read_text()
    html.write_text(before.replace("</h1>", " — certified by an auditor</h1>", 1))
    assert html.read_text() != before
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["report.html"] = hashlib.sha256(html.read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    code, out = verify(bundle)
    assert code == 1 and any("manifest.sig does not verify over manifest.json" in ln for ln in out)


def test_another_key_is_refused_when_the_signer_is_pinned(bundle: Path, tmp_path: Path):
    other = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    code, out = verify(bundle, "--public-key", other)
    assert code == 1 and "FAIL  manifest.json names another signing key than --public-key" in out


def test_a_planted_secret_fails_verification_even_when_properly_signed(bundle: Path, key):
    """The signer itself leaked a lease token: the signature is fine, the bundle is not."""
    html = bundle / "report.html"
    html.write_text(html.read_text() + "<!-- llt_AbCdEfGhIjKlMnOp -->")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["report.html"] = hashlib.sha256(html.read_bytes()).hexdigest()
    raw = (json.dumps(manifest, indent=2) + "\n").encode()
    (bundle / "manifest.json").write_bytes(raw)
    (bundle / "manifest.sig").write_bytes(base64.b64encode(load_signing_key(key[0]).sign(raw).signature) + b"\n")
    code, out = verify(bundle, "--public-key", key[1])
    assert code == 1 and "FAIL  report.html: contains a lease token" in out
    assert "llt_AbCdEfGhIjKlMnOp" not in "\n".join(out)  # the message names the kind, never the secret


def test_signing_refuses_reports_with_a_secret(status_runs, key, tmp_path: Path):
    report = tmp_path / "leaky"
    shutil.copytree(status_runs.good, report)
    (report / "junit.xml").write_text((report / "junit.xml").read_text() + "<!-- Bearer abcdefghijklmnopqrstuvwxyz -->")
    proc = run_cli("bundle", "--sign", str(key[0]), str(report), env=cli_env(tmp_path))
    assert proc.returncode == 2 and "refusing to sign: junit.xml contains" in proc.stderr
    assert not (report / "bundle").exists()


def test_conformance_sign_and_archive_round_trip(key, tmp_path: Path):
    report = tmp_path / "run"
    proc = run_cli(
        "conformance",
        "--only",
        "status",
        "--report-dir",
        str(report),
        "--sign",
        str(key[0]),
        env=cli_env(tmp_path / "state"),
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"bundle: {report / 'bundle'}" in proc.stdout
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(report / "bundle", arcname="bundle")
    code, out = verify(archive, "--public-key", key[1])
    assert code == 0, out


def test_key_problems_are_one_line_and_exit_2(key, tmp_path: Path):
    path, _ = key
    again = run_cli("keygen", str(path), env=cli_env(tmp_path))
    assert again.returncode == 2 and "not overwriting" in again.stderr
    path.chmod(0o644)
    loose = run_cli("conformance", "--sign", str(path), env=cli_env(tmp_path))
    assert loose.returncode == 2 and "readable by others" in loose.stderr
    assert len(loose.stderr.strip().splitlines()) == 1
    missing = run_cli("verify", str(tmp_path / "nothing-here"), env=cli_env(tmp_path))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
