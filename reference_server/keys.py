"""Ed25519 signing keys: one file next to the database, mode 0600.

The file holds every key the server has used: exactly one `active` key signs
new answers, `retired` keys stay published so that answers signed before a
rotation still verify. Workers re-read the file when it changes, so `rotate`
takes effect on a running server without a restart.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from leasecheck.core.signing import ALG, public_key_b64

from . import clock

FILE_VERSION = 1
log = logging.getLogger("leasecheck.reference_server")


class KeyFileError(Exception):
    """The key file cannot be used, in one line."""


@dataclass(frozen=True)
class KeyEntry:
    kid: str
    signing_key: SigningKey
    status: str  # "active" | "retired"
    created_at: float

    def published(self, timestamp_style: str = "millis_z") -> dict[str, Any]:
        """The entry of GET /api/v1/system/public-keys (no private part)."""
        return {
            "kid": self.kid,
            "algorithm": ALG,
            "public_key": public_key_b64(self.signing_key),
            "status": self.status,
            "created_at": clock.rfc3339(self.created_at, timestamp_style),
        }


def kid_for(key: SigningKey) -> str:
    """A kid derived from the public key, so it can never name two keys. Its prefix
    says what it is: `lk-…` read like a license key to anyone scanning a report
    for leaked secrets, and a key id is public."""
    return "ed25519-" + hashlib.sha256(bytes(key.verify_key)).hexdigest()[:16]


def new_entry() -> KeyEntry:
    key = SigningKey(secrets.token_bytes(32))
    return KeyEntry(kid=kid_for(key), signing_key=key, status="active", created_at=clock.now())


def _encode(entries: list[KeyEntry]) -> bytes:
    doc = {
        "version": FILE_VERSION,
        "keys": [
            {
                "kid": e.kid,
                "algorithm": ALG,
                "seed": base64.b64encode(bytes(e.signing_key)).decode("ascii"),
                "status": e.status,
                "created_at": e.created_at,
            }
            for e in entries
        ],
    }
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


def _decode(path: Path, raw: bytes) -> list[KeyEntry]:
    try:
        doc = json.loads(raw)
        entries = []
        for k in doc["keys"]:
            key = SigningKey(base64.b64decode(k["seed"], validate=True))
            if k["kid"] != kid_for(key) or k["status"] not in ("active", "retired"):
                raise ValueError(f"entry {k['kid']!r} is inconsistent")
            entries.append(KeyEntry(k["kid"], key, k["status"], float(k["created_at"])))
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"key file {path} is not a leasecheck key file ({exc})") from None
    if sum(e.status == "active" for e in entries) != 1:
        raise KeyFileError(f"key file {path} must hold exactly one active key")
    return entries


def check_private(path: Path, st: os.stat_result) -> None:
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"key file {path} is accessible by group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"run: chmod 600 {path}"
        )


def read_key_file(path: Path) -> tuple[list[KeyEntry], os.stat_result]:
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            check_private(path, st)
            raw = fh.read()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    return _decode(path, raw), st


def _write_private_temp(path: Path, content: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def load_or_create(path: Path) -> list[KeyEntry]:
    """The keys in `path`, creating the file with one active key if absent.

    Safe when several workers start at once: the file appears atomically
    (link of a complete temp file) and a loser reads the winner's file.
    """
    path = Path(path)
    if not path.exists():
        try:
            tmp = _write_private_temp(path, _encode([new_entry()]))
        except OSError as exc:
            raise KeyFileError(f"cannot create key file {path}: {exc.strerror}") from None
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError as exc:
            raise KeyFileError(f"cannot create key file {path}: {exc.strerror}") from None
        finally:
            tmp.unlink(missing_ok=True)
    return read_key_file(path)[0]


@contextmanager
def _rotation_lock(path: Path) -> Iterator[None]:
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def rotate(path: Path) -> KeyEntry:
    """Retire the active key and make a new one active; returns the new key."""
    path = Path(path)
    with _rotation_lock(path):
        entries = load_or_create(path)
        fresh = new_entry()
        kept = [KeyEntry(e.kid, e.signing_key, "retired", e.created_at) for e in entries]
        tmp = _write_private_temp(path, _encode(kept + [fresh]))
        os.replace(tmp, path)
    return fresh


class KeyRingFile:
    """The key file as a running worker sees it, re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int, int] | None = None
        self._entries: list[KeyEntry] = []
        self.entries()

    def entries(self) -> list[KeyEntry]:
        try:
            st = os.stat(self.path)
        except OSError as exc:
            if self._entries:
                return self._entries  # keep signing with what we have
            raise KeyFileError(f"cannot read key file {self.path}: {exc.strerror}") from None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._entries = read_key_file(self.path)[0]
            except KeyFileError as exc:
                if not self._entries:
                    raise
                log.error("%s; still signing with the keys read before", exc)
        return self._entries

    def active(self) -> KeyEntry:
        return next(e for e in self.entries() if e.status == "active")
