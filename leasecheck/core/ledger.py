"""The run ledger: what a run created and holds on a target, on disk as it happens.

The management subset has no list endpoint, so a run killed hard (SIGKILL, an
OOM kill, a CI runner that vanished) could never find its licenses and leases
again. The ledger records them as they appear, one JSON line per event,
written with one `write(2)` on an O_APPEND descriptor before the suite goes on
(the kernel has the line even if the process dies the next instant), so
`leasecheck cleanup --run-id ID` can finish the job.

It holds license keys and lease tokens, so it lives in a private state
directory (0700, files 0600), never beside the reports:
`$LEASECHECK_STATE_DIR/runs/<run_id>.jsonl`, by default under
`$XDG_STATE_HOME/leasecheck` or `~/.local/state/leasecheck`.

Lines (`v` is the format version):
    {"v":1,"event":"run","run_id":…,"target":URL,"started_at":…,"pid":…,"suite_version":…,"provisioning":…}
    {"v":1,"event":"license","license_id":…,"license_key":…,"created":true|false,"at":…}
    {"v":1,"event":"lease","token":…,"license_id":…,"at":…}        (+"license_key" if the license is unknown)
    {"v":1,"event":"lease_ended","token":…,"at":…}
    {"v":1,"event":"revoked","license_id":…,"at":…}
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .userdirs import user_dir

FORMAT_VERSION = 1
RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class LedgerError(Exception):
    """The ledger cannot be used; the message is the one-line reason."""


def state_dir(explicit: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """Where ledgers live: explicit > $LEASECHECK_STATE_DIR > $XDG_STATE_HOME/leasecheck
    > ~/.local/state/leasecheck; ledgers go in its `runs/` folder."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        base = Path(explicit)
    elif env.get("LEASECHECK_STATE_DIR"):
        base = Path(env["LEASECHECK_STATE_DIR"])
    else:
        base = user_dir("XDG_STATE_HOME", env)
    return base.expanduser() / "runs"


def check_run_id(run_id: str) -> str:
    if not RUN_ID_RE.match(run_id or ""):
        raise LedgerError(f"run id {run_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
    return run_id


def ledger_path(directory: Path, run_id: str) -> Path:
    return Path(directory) / f"{check_run_id(run_id)}.jsonl"


def private_dir(directory: Path) -> Path:
    """Create `directory` (and parents) and make it 0700; refuse one others can read."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        mode = stat.S_IMODE(directory.stat().st_mode)
        if mode & 0o077:
            directory.chmod(0o700)
    except OSError as exc:
        raise LedgerError(f"cannot use state directory {directory}: {exc.strerror or exc}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise LedgerError(f"state directory {directory} is not writable")
    return directory


def usable_state_dir(explicit: Path | None, report_dir: Path) -> Path:
    """The state dir a run on a target keeps its ledger in, made private before the run's first
    request: never the report dir or inside it (ledgers hold license keys, reports are shared)."""
    directory = state_dir(explicit)
    report = Path(report_dir).resolve()
    if directory.resolve() == report or report in directory.resolve().parents:
        raise LedgerError(
            f"state dir {directory} is inside the report dir {report}; ledgers hold secrets, keep them apart"
        )
    return private_dir(directory)


class Ledger:
    """Append-only writer for one run's ledger (thread-safe)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd
        self._lock = threading.Lock()

    @classmethod
    def create(cls, directory: Path, run_id: str, header: Mapping[str, Any]) -> Ledger:
        """A new ledger for `run_id`; a run id that already has one is refused
        (two runs sharing a ledger would clean up each other's work)."""
        path = ledger_path(private_dir(directory), run_id)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise LedgerError(
                f"run {run_id} already has a ledger ({path}); "
                f"run `leasecheck cleanup --run-id {run_id}` or use another run id"
            ) from None
        except OSError as exc:
            raise LedgerError(f"cannot create ledger {path}: {exc.strerror or exc}") from None
        ledger = cls(path, fd)
        ledger.write("run", run_id=run_id, pid=os.getpid(), **header)
        return ledger

    def write(self, event: str, **fields: Any) -> None:
        line = (
            json.dumps(
                {"v": FORMAT_VERSION, "event": event, "at": round(time.time(), 3), **fields},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            + "\n"
        )
        with self._lock:
            if self._fd is None:
                return
            os.write(self._fd, line.encode("utf-8"))

    def license(self, license_id: str, license_key: str, *, created: bool) -> None:
        self.write("license", license_id=license_id, license_key=license_key, created=created)

    def lease(self, token: str, license_id: str | None, license_key: str | None = None) -> None:
        fields: dict[str, Any] = {"token": token, "license_id": license_id}
        if license_key is not None:
            fields["license_key"] = license_key
        self.write("lease", **fields)

    def lease_ended(self, token: str) -> None:
        self.write("lease_ended", token=token)

    def revoked(self, license_id: str) -> None:
        self.write("revoked", license_id=license_id)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def delete(self) -> None:
        """The run's work is undone: nothing left to recover."""
        self.close()
        self.path.unlink(missing_ok=True)


@dataclass
class LicenseEntry:
    license_id: str
    license_key: str
    created: bool  # False: an inventory license (used, never revoked)
    revoked: bool = False


@dataclass
class LeaseEntry:
    token: str
    license_id: str | None
    license_key: str | None
    ended: bool = False


@dataclass
class LedgerState:
    """A ledger replayed: what is still to undo."""

    path: Path
    header: dict[str, Any] = field(default_factory=dict)
    licenses: dict[str, LicenseEntry] = field(default_factory=dict)
    leases: dict[str, LeaseEntry] = field(default_factory=dict)
    torn_lines: int = 0

    @property
    def run_id(self) -> str | None:
        return self.header.get("run_id")

    @property
    def target(self) -> str | None:
        return self.header.get("target")

    def held_leases(self) -> list[tuple[str, str, str | None]]:
        """(token, license key, license id) of every lease not known to have ended."""
        out = []
        for e in self.leases.values():
            if e.ended:
                continue
            key = e.license_key or (self.licenses[e.license_id].license_key if e.license_id in self.licenses else None)
            if key is not None:
                out.append((e.token, key, e.license_id))
        return out

    def to_revoke(self) -> list[str]:
        return [lic.license_id for lic in self.licenses.values() if lic.created and not lic.revoked]


def read(path: Path) -> LedgerState:
    """Replay a ledger. A torn last line (the process died mid-write) is skipped and counted."""
    state = LedgerState(Path(path))
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        raise LedgerError(f"no ledger at {path}") from None
    for number, raw in enumerate(lines, 1):
        try:
            e = json.loads(raw)
        except ValueError:
            state.torn_lines += 1
            continue
        if not isinstance(e, dict):
            state.torn_lines += 1
            continue
        kind = e.get("event")
        problem = _event_problem(e)
        if problem:  # whole JSON, wrong fields: not a torn write; the line itself holds keys, never quoted
            raise LedgerError(f"ledger {path}, line {number}: {problem}")
        if kind == "run":
            state.header = {k: v for k, v in e.items() if k not in ("v", "event")}
        elif kind == "license":
            state.licenses[e["license_id"]] = LicenseEntry(e["license_id"], e["license_key"], bool(e.get("created")))
        elif kind == "lease":
            state.leases[e["token"]] = LeaseEntry(e["token"], e.get("license_id"), e.get("license_key"))
        elif kind == "lease_ended" and e.get("token") in state.leases:
            state.leases[e["token"]].ended = True
        elif kind == "revoked" and e.get("license_id") in state.licenses:
            state.licenses[e["license_id"]].revoked = True
    return state


#: The fields each event must carry, and whether they may be null.
_EVENT_FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {
    "license": (("license_id", False), ("license_key", False)),
    "lease": (("token", False), ("license_id", True), ("license_key", True)),
    "lease_ended": (("token", False),),
    "revoked": (("license_id", False),),
}


def _event_problem(e: dict[str, Any]) -> str | None:
    """Why a ledger line cannot be replayed (a field missing or not a string), or None."""
    kind = e.get("event")
    for name, nullable in _EVENT_FIELDS.get(kind, ()) if isinstance(kind, str) else ():
        value = e.get(name)
        if not (isinstance(value, str) or (nullable and value is None)):
            noun = type(value).__name__
            got = "missing" if name not in e else f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}, not a string"
            return f"a {kind} event whose {name} is {got}"
    return None


def open_existing(path: Path) -> Ledger:
    """Append to an existing ledger (cleanup records its progress there)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except OSError as exc:
        raise LedgerError(f"cannot open ledger {path}: {exc.strerror or exc}") from None
    return Ledger(Path(path), fd)


def pending_runs(directory: Path) -> list[Path]:
    """Ledgers left behind in `directory` (runs that did not finish cleaning up)."""
    d = Path(directory)
    return sorted(d.glob("*.jsonl")) if d.is_dir() else []
