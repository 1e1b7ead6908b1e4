"""`leasecheck keygen`: the README's own example path works when its folder is missing."""

from __future__ import annotations

import json
import stat
import tarfile
from pathlib import Path

from click.testing import CliRunner

from leasecheck.cli.bundle import keygen_command

from .conftest import leasecheck


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


def test_a_bundle_dir_that_cannot_be_made_is_exit_2(one_run: Path, tmp_path: Path):
    """It used to end in a FileNotFoundError (exit 3)."""
    key = tmp_path / "k.key"
    assert leasecheck("keygen", str(key)).code == 0
    ran = leasecheck("bundle", str(one_run), "--sign", str(key), "--out", "/proc/nope")
    assert ran.code == 2 and "cannot write the bundle to '/proc/nope'" in ran.one_error_line()


def test_an_out_dir_that_is_no_bundle_is_never_replaced(one_run: Path, tmp_path: Path):
    """--out used to be deleted whatever it held, then written."""
    key, out = tmp_path / "k.key", tmp_path / "mine"
    assert leasecheck("keygen", str(key)).code == 0
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    ran = leasecheck("bundle", str(one_run), "--sign", str(key), "--out", str(out))
    assert ran.code == 2 and "exists and is not a bundle" in ran.one_error_line()
    assert (out / "notes.txt").read_text() == "keep me"
    for _ in range(2):  # an earlier bundle there is replaced
        assert leasecheck("bundle", str(one_run), "--sign", str(key), "--out", str(tmp_path / "b")).code == 0


def test_keygen_refuses_an_empty_path_or_a_directory(tmp_path: Path):
    """An empty path said "'.' already exists"."""
    empty = leasecheck("keygen", "")
    assert empty.code == 2 and "KEYFILE is empty" in empty.one_error_line()
    folder = CliRunner().invoke(keygen_command, [str(tmp_path)])
    assert folder.exit_code == 2 and "is a directory" in folder.output and "already exists" not in folder.output


def test_verify_refuses_a_public_key_that_is_no_key(one_run: Path, tmp_path: Path):
    """It printed "NOT VERIFIED" and exited 1, as for a bundle that failed."""
    key = tmp_path / "k.key"
    assert leasecheck("keygen", str(key)).code == 0
    assert leasecheck("bundle", str(one_run), "--sign", str(key), "--out", str(tmp_path / "b")).code == 0
    for bad, says in (("notbase64!!", "Only base64 data"), ("YWJj", "not 32 bytes")):
        ran = leasecheck("verify", str(tmp_path / "b"), "--public-key", bad)
        line = ran.one_error_line()
        assert ran.code == 2 and "--public-key is not a base64 Ed25519 public key" in line and says in line, line


def test_verify_names_a_file_that_is_no_bundle_in_one_line(one_run: Path, tmp_path: Path):
    """A text file printed tarfile's four "- method gz: ReadError(...)" lines, and
    a bundle archive cut off in transfer printed a bare "aborted" and exit 1
    (gzip's EOFError is what click reads as Ctrl-D)."""
    key = tmp_path / "k.key"
    assert leasecheck("keygen", str(key)).code == 0
    assert leasecheck("bundle", str(one_run), "--sign", str(key), "--out", str(tmp_path / "b")).code == 0
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "b", arcname="bundle")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    headless = tmp_path / "headless.tar.gz"  # cut inside gzip's own header: EOFError at open
    headless.write_bytes(archive.read_bytes()[:15])
    corrupt = tmp_path / "corrupt.tar.gz"  # a gzip header, then damage in the deflate stream
    whole = bytearray(archive.read_bytes())
    whole[40:200] = bytes(160)
    corrupt.write_bytes(bytes(whole))
    text = tmp_path / "notes.txt"
    text.write_text("not an archive\n")
    empty = tmp_path / "empty.tar.gz"
    empty.write_bytes(b"")
    cases = (
        (text, "not a tar archive"),
        (empty, ": empty"),
        (cut, "ended before"),
        (headless, "ended before"),
        (corrupt, "a gzip file that is damaged, cut off, or holds no tar archive"),
    )
    for bad, says in cases:
        ran = leasecheck("verify", str(bad))
        line = ran.one_error_line()
        assert ran.code == 2 and "neither a bundle directory nor a readable archive" in line and says in line, line
