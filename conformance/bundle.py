"""A result a vendor can publish: a signed bundle, and its verification.

A bundle is a directory (`bundle/` in the report dir; archive it as you
like, `verify` also reads a .tar.gz of it):

    results.json  report.html  junit.xml    the run's reports, already redacted
    manifest.json  {"format": "leasecheck-bundle/1", "suite": {name, version},
                    "spec_digest", "run_id", "target", "outcome", "counts",
                    "files": {name: sha256 hex}, "public_key": base64 Ed25519,
                    "created_at"}
    manifest.sig   base64 Ed25519 signature over the exact bytes of manifest.json

The signature covers the manifest, the manifest covers each file by digest.
`verify` also checks that the bundle says what its results say: the claimed
outcome is the one the per-requirement results imply (recomputed with the
suite's own rule, `verdict.run_outcome`), the counts add up, the spec digest
matches, and no file holds anything shaped like a license key or token.
Signing refuses to sign a bundle that would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import lzma
import os
import shutil
import stat
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from leasecheck import __version__
from leasecheck.core.errors import first_line
from leasecheck.core.redact import find_secrets
from leasecheck.specs import digest, requirements

from .verdict import OUTCOMES, Verdict, run_outcome

FORMAT = "leasecheck-bundle/1"
KEY_KIND = "leasecheck-signing-key"
REPORT_FILES = ("results.json", "report.html", "junit.xml")
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
MAX_MEMBER_BYTES = 64 * 1024 * 1024


class BundleError(ValueError):
    """The bundle cannot be made or read; the message is the one-line reason."""


# ------------------------------------------------------------------ keys
def keygen(path: Path) -> str:
    """Write a new Ed25519 key (seed) to `path`, mode 0600; return the public key, base64.
    An existing file is never overwritten; missing folders are made (mode 0700:
    the key is a secret)."""
    key = SigningKey.generate()
    public = base64.b64encode(bytes(key.verify_key)).decode("ascii")
    doc = {
        "kind": KEY_KIND,
        "algorithm": "Ed25519",
        "seed": base64.b64encode(bytes(key)).decode("ascii"),
        "public_key": public,
    }
    if Path(path).is_dir():
        raise BundleError(f"{path} is a directory; give the path of a key file to create")
    try:
        Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BundleError(f"{path} already exists; not overwriting a key") from None
    except OSError as exc:
        raise BundleError(f"cannot write {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, indent=2) + "\n")
    return public


def load_signing_key(path: Path) -> SigningKey:
    """Read a key written by `keygen`; refuse one that others can read (like ssh does)."""
    p = Path(path)
    try:
        mode = stat.S_IMODE(p.stat().st_mode)
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"signing key {path} does not exist (create one with `leasecheck keygen {path}`)") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"signing key {path} cannot be read: {exc}") from None
    if mode & 0o077:
        raise BundleError(f"signing key {path} is readable by others (mode {mode:o}); chmod 600 it")
    if not isinstance(doc, dict) or doc.get("kind") != KEY_KIND or doc.get("algorithm") != "Ed25519":
        raise BundleError(f"{path} is not a leasecheck signing key (see `leasecheck keygen`)")
    try:
        seed = base64.b64decode(doc["seed"], validate=True)
        return SigningKey(seed)
    except (KeyError, ValueError, TypeError) as exc:
        raise BundleError(f"signing key {path} has no valid Ed25519 seed: {exc}") from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ build
def build(report_dir: Path, key: SigningKey, out: Path | None = None) -> Path:
    """Sign the reports in `report_dir` into `out` (default REPORT_DIR/bundle)."""
    report_dir = Path(report_dir)
    out = Path(out) if out is not None else report_dir / "bundle"
    files: dict[str, bytes] = {}
    for name in REPORT_FILES:
        try:
            files[name] = (report_dir / name).read_bytes()
        except FileNotFoundError:
            raise BundleError(f"{report_dir} has no {name}; is it a leasecheck report directory?") from None
    for name, data in files.items():
        found = find_secrets(data.decode("utf-8", "replace"))
        if found:
            raise BundleError(f"refusing to sign: {name} contains {', '.join(found)}")
    try:
        results = json.loads(files["results.json"])
    except ValueError as exc:
        raise BundleError(f"{report_dir}/results.json is not JSON: {exc}") from None
    problems = consistency(results)
    if problems:
        raise BundleError(f"refusing to sign an inconsistent results.json: {problems[0]}")
    suite = results.get("suite", {})
    manifest = {
        "format": FORMAT,
        "suite": {"name": suite.get("name", "leasecheck"), "version": suite.get("version")},
        "signed_by_suite_version": __version__,
        "spec_digest": suite.get("spec_digest"),
        "run_id": results.get("run_id"),
        "target": {k: (results.get("target") or {}).get(k) for k in ("url", "server_version")},
        "outcome": results.get("outcome"),
        "counts": results.get("counts"),
        "files": {name: _sha256(data) for name, data in files.items()},
        "public_key": base64.b64encode(bytes(key.verify_key)).decode("ascii"),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    signature = base64.b64encode(key.sign(manifest_bytes).signature) + b"\n"
    if out.exists() and not (out.is_dir() and (out / MANIFEST).is_file()):
        raise BundleError(f"--out {str(out)!r} exists and is not a bundle; not replacing it")
    try:
        if out.exists():  # an earlier bundle of these reports: replaced
            shutil.rmtree(out)
        out.mkdir(parents=True)
        for name, data in files.items():
            (out / name).write_bytes(data)
        (out / MANIFEST).write_bytes(manifest_bytes)
        (out / SIGNATURE).write_bytes(signature)
    except OSError as exc:
        raise BundleError(f"cannot write the bundle to {str(out)!r}: {exc.strerror or exc}") from None
    return out


# ------------------------------------------------------------------ verify
def consistency(results: dict[str, Any]) -> list[str]:
    """Does results.json say what its per-requirement results say? One line per problem."""
    problems: list[str] = []
    reqs = results.get("requirements")
    if not isinstance(reqs, list) or not all(isinstance(r, dict) for r in reqs):
        return ["results.json has no requirements list"]
    verdicts = []
    catalogue = requirements() if (results.get("suite") or {}).get("spec_digest") == digest() else None
    for r in reqs:
        rid, level, outcome = r.get("id"), r.get("level"), r.get("outcome")
        if outcome not in OUTCOMES:
            problems.append(f"{rid}: outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
            continue
        if outcome == "failed" and level != "MUST":
            problems.append(f"{rid}: a {level} requirement cannot fail (it would be a warning)")
        if outcome == "warning" and level == "MUST":
            problems.append(f"{rid}: a MUST requirement cannot be a warning (it passes or fails)")
        if catalogue is not None and rid in catalogue and catalogue[rid]["level"] != level:
            problems.append(f"{rid}: level {level} differs from the catalogue's {catalogue[rid]['level']}")
        verdicts.append(
            Verdict(
                id=str(rid),
                level=str(level),
                area=str(r.get("area", "")),
                title=str(r.get("title", "")),
                outcome=outcome,
                reason=r.get("reason"),
                expected_failure=r.get("expected_failure"),
            )
        )
    implied = "failed" if results.get("interrupted") else run_outcome(verdicts)
    if results.get("outcome") != implied:
        culprits = [v.id for v in verdicts if v.outcome == "failed" and not v.expected_failure][:5]
        problems.append(
            f"outcome: results.json claims {results.get('outcome')!r} but its requirements imply "
            f"{implied!r}" + (f" ({', '.join(culprits)} failed)" if culprits else "")
        )
    counts = {o: sum(1 for v in verdicts if v.outcome == o) for o in OUTCOMES}
    counts["expected_failures"] = sum(1 for v in verdicts if v.expected_failure)
    claimed = results.get("counts") or {}
    for k, n in counts.items():
        if claimed.get(k) != n:
            problems.append(f"counts: results.json claims {k} = {claimed.get(k)} but its requirements have {n}")
    cov = (results.get("coverage") or {}).get("requirements")
    if isinstance(cov, dict):
        for k in OUTCOMES:
            if cov.get(k) != counts[k]:
                problems.append(f"coverage: claims {k} = {cov.get(k)} but the requirements have {counts[k]}")
    return problems


#: What reading a damaged archive raises: a cut-off one EOFError (gzip), a corrupt
#: one zlib.error, lzma.LZMAError or OSError, a damaged tar stream TarError.
ARCHIVE_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)
#: The first bytes of the compressed formats tarfile reads, by name.
COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}


def not_a_tar(path: Path) -> str:
    """Why tarfile could open no tar stream in `path`: named by the file's first bytes,
    not by tarfile's wording of the attempts it made."""
    with path.open("rb") as f:
        head = f.read(6)
    for magic, name in COMPRESSED_MAGIC.items():
        if head.startswith(magic):
            return f"a {name} file that is damaged, cut off, or holds no tar archive"
    return "empty" if not head else "not a tar archive (.tar, .tar.gz, .tar.bz2 or .tar.xz)"


def reason(exc: BaseException) -> str:
    """An exception's message as one line, or its type's name when it has none."""
    return first_line(str(exc)) or type(exc).__name__


def unreadable(path: Path) -> str:
    return f"{path} is neither a bundle directory nor a readable archive"


def open_archive(path: Path) -> tarfile.TarFile:
    """A tar archive of any compression tarfile reads, or a BundleError saying what the file is."""
    try:
        return tarfile.open(path, "r:*")
    except tarfile.ReadError:
        # tarfile tried every compression it knows and none held a tar header:
        # its message lists each attempt, one line each. Say what the file is instead.
        raise BundleError(f"{unreadable(path)}: {not_a_tar(path)}") from None
    except ARCHIVE_ERRORS as exc:  # a header cut off: gzip's EOFError at open
        raise BundleError(f"{unreadable(path)}: {reason(exc)}") from None


def read_bundle(path: Path) -> dict[str, bytes]:
    """The files of a bundle directory, or of a .tar.gz of one (read in memory, never extracted)."""
    p = Path(path)
    if p.is_dir():
        return {f.name: f.read_bytes() for f in sorted(p.iterdir()) if f.is_file()}
    if p.is_file():
        try:
            with open_archive(p) as tar:
                out: dict[str, bytes] = {}
                for m in tar.getmembers():
                    if not m.isfile():
                        continue
                    if m.size > MAX_MEMBER_BYTES:
                        raise BundleError(f"{path}: member {m.name} is too large")
                    name = m.name.rsplit("/", 1)[-1]
                    if name in out:
                        raise BundleError(f"{path}: holds {name} twice")
                    fh = tar.extractfile(m)
                    out[name] = fh.read() if fh is not None else b""
                return out
        except ARCHIVE_ERRORS as exc:
            raise BundleError(f"{unreadable(p)}: {reason(exc)}") from None
    raise BundleError(f"{path} does not exist")


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(path: Path, public_key: str | None = None) -> Verification:
    """Check a bundle: signature, file digests, spec digest, internal consistency, no secrets."""
    if public_key is not None:  # the user's own argument: unusable is exit 2, not "not verified"
        try:
            if len(base64.b64decode(public_key, validate=True)) != 32:
                raise ValueError("not 32 bytes")
        except ValueError as exc:
            raise BundleError(f"--public-key is not a base64 Ed25519 public key (32 bytes): {exc}") from None
    v = Verification()
    files = read_bundle(path)
    if MANIFEST not in files or SIGNATURE not in files:
        v.problems.append(f"not a bundle: {MANIFEST} and {SIGNATURE} are required")
        return v
    manifest_bytes = files[MANIFEST]
    try:
        manifest = json.loads(manifest_bytes)
        assert isinstance(manifest, dict)
    except (ValueError, AssertionError):
        v.problems.append(f"{MANIFEST} is not a JSON object")
        return v
    v.manifest = manifest
    if manifest.get("format") != FORMAT:
        v.problems.append(f"{MANIFEST}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    _check_signature(v, manifest_bytes, files[SIGNATURE], manifest.get("public_key"), public_key)
    listed_files = manifest.get("files")
    listed: dict[str, Any] = listed_files if isinstance(listed_files, dict) else {}
    for name in REPORT_FILES:
        if name not in listed:
            v.problems.append(f"{MANIFEST} does not list {name}")
    for name, want in listed.items():
        if name not in files:
            v.problems.append(f"{name}: listed in the manifest but missing from the bundle")
        elif _sha256(files[name]) != want:
            v.problems.append(f"{name}: sha256 differs from the manifest (the file was changed after signing)")
    for name in sorted(set(files) - set(listed) - {MANIFEST, SIGNATURE}):
        v.problems.append(f"{name}: in the bundle but not in the manifest (not covered by the signature)")
    for name, data in sorted(files.items()):
        if name == SIGNATURE:
            continue
        found = find_secrets(data.decode("utf-8", "replace"))
        if found:
            v.problems.append(f"{name}: contains {', '.join(found)}")
    if "results.json" in files:
        _check_results(v, manifest, files["results.json"])
    return v


def _check_signature(v: Verification, manifest_bytes: bytes, sig_text: bytes, claimed: Any, pinned: str | None) -> None:
    key_b64 = pinned or claimed
    if pinned and claimed != pinned:
        v.problems.append("manifest.json names another signing key than --public-key")
    try:
        key = VerifyKey(base64.b64decode(str(key_b64), validate=True))
        signature = base64.b64decode(sig_text.strip(), validate=True)
    except (ValueError, TypeError) as exc:
        v.problems.append(f"signature or public key unreadable: {exc}")
        return
    try:
        key.verify(manifest_bytes, signature)
    except (BadSignatureError, ValueError):
        v.problems.append(
            "manifest.sig does not verify over manifest.json "
            "(the manifest was changed after signing, or another key signed it)"
        )
        return
    v.notes.append(
        f"signature valid, key {key_b64}"
        + ("" if pinned else " (taken from the bundle; pass --public-key to check who signed it)")
    )


def _check_results(v: Verification, manifest: dict[str, Any], raw: bytes) -> None:
    try:
        results = json.loads(raw)
        assert isinstance(results, dict)
    except (ValueError, AssertionError):
        v.problems.append("results.json is not a JSON object")
        return
    suite = results.get("suite") or {}
    spec = suite.get("spec_digest")
    if not (isinstance(spec, str) and len(spec) == 64):
        v.problems.append("results.json records no spec digest")
    elif manifest.get("spec_digest") != spec:
        v.problems.append("spec digest: the manifest and results.json disagree")
    else:
        v.notes.append(
            f"spec digest {spec[:12]}…"
            + (" (this leasecheck's spec)" if spec == digest() else " (not the spec of this leasecheck)")
        )
    if (manifest.get("suite") or {}).get("version") != suite.get("version"):
        v.problems.append("suite version: the manifest and results.json disagree")
    if manifest.get("outcome") != results.get("outcome"):
        v.problems.append(
            f"outcome: the manifest claims {manifest.get('outcome')!r}, results.json {results.get('outcome')!r}"
        )
    if manifest.get("counts") != results.get("counts"):
        v.problems.append("counts: the manifest and results.json disagree")
    v.problems.extend(consistency(results))


__all__ = ["BundleError", "build", "consistency", "keygen", "load_signing_key", "verify"]
