"""What a load run hands to its locust processes, and how it travels.

The runner (or, under plain `locust -f`, the locust master itself) provisions
licenses and builds one `LoadConfig`. It holds license keys, so it is written
only to a private 0600 file outside the report dir (`LEASECHECK_LOAD_CONFIG`)
and shipped to workers inside locust's own spawn message (see `plan.py`).
`RunRecord` is the same minus every secret: it sits beside the shards so
that the judge knows each license's capacity.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CONFIG_ENV = "LEASECHECK_LOAD_CONFIG"
TARGET_ENV = "LEASECHECK_TARGET"
TOKEN_ENV = "LEASECHECK_MANAGEMENT_TOKEN"
SHARDS_ENV = "LEASECHECK_LOAD_SHARDS"
RUN_RECORD = "run.json"
#: The master's (or local runner's) one-line-a-second progress, beside the shards.
PROGRESS_FILE = "progress.jsonl"


@dataclass
class LicenseGrant:
    """One provisioned license: `key` is the secret, `name` is what reports show."""

    name: str
    license_id: str
    key: str
    seats: int
    timeout_minutes: int
    group: str = ""  # the profile's role for it, e.g. "ratio-10"
    #: [sent, received] of its create_license call (the provisioning process's clock), then the
    #: answer's meta.timestamp (server clock) where it carried one.
    created: list[float] | None = None


@dataclass
class LoadConfig:
    profile: str
    target: str
    minute_seconds: float
    users: int
    duration: float
    shard_dir: str
    run_id: str
    params: dict[str, Any] = field(default_factory=dict)
    licenses: list[LicenseGrant] = field(default_factory=list)
    slos: list[str] = field(default_factory=list)  # the --slo texts: a profile may end early on them (step)

    def lease_seconds(self, grant: LicenseGrant) -> float:
        return grant.timeout_minutes * self.minute_seconds

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LoadConfig:
        doc = json.loads(text)
        doc["licenses"] = [LicenseGrant(**g) for g in doc.get("licenses", [])]
        return cls(**doc)

    def write_private(self, path: Path) -> Path:
        """Write with mode 0600 from the first byte (it holds license keys)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())
        return path

    @classmethod
    def from_env(cls) -> LoadConfig | None:
        path = os.environ.get(CONFIG_ENV)
        if not path:
            return None
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def record(self) -> dict[str, Any]:
        """The secret-free description of this run, written beside the shards."""
        return {
            "profile": self.profile,
            "target": self.target,
            "minute_seconds": self.minute_seconds,
            "users": self.users,
            "duration": self.duration,
            "run_id": self.run_id,
            "params": self.params,
            "licenses": [
                {
                    "name": g.name,
                    "license_id": g.license_id,
                    "seats": g.seats,
                    "timeout_minutes": g.timeout_minutes,
                    "group": g.group,
                    "created": g.created,
                }
                for g in self.licenses
            ],
        }


def write_run_record(shard_dir: Path, record: dict[str, Any]) -> None:
    shard_dir.mkdir(parents=True, exist_ok=True)
    (shard_dir / RUN_RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")


#: What `LoadConfig.record()` writes and the judge reads, with the type each must have.
_RECORD_FIELDS: dict[str, type | tuple[type, ...]] = {
    "target": str,
    "minute_seconds": (int, float),
    "users": int,
    "duration": (int, float),
    "run_id": str,
    "params": dict,
    "licenses": list,
}
_LICENSE_FIELDS: dict[str, type | tuple[type, ...]] = {"name": str, "seats": int, "timeout_minutes": int}


class RunRecordError(ValueError):
    """A run.json that is JSON but no run record (hand-made, or another tool's)."""


def read_run_record(shard_dir: Path) -> dict[str, Any]:
    """The record beside the shards, checked for every field the judge reads: a
    hand-made one with a profile and nothing else reached the judge as a
    KeyError (exit 3, "internal error") instead of a user's mistake."""
    doc = json.loads((shard_dir / RUN_RECORD).read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise RunRecordError(f"{RUN_RECORD} is not a JSON object")
    if not isinstance(doc.get("profile"), str) or not doc["profile"]:
        raise RunRecordError(f"{RUN_RECORD} names no profile")
    _check_fields(doc, _RECORD_FIELDS, RUN_RECORD)
    for i, lic in enumerate(doc["licenses"], 1):
        if not isinstance(lic, dict):
            raise RunRecordError(f"{RUN_RECORD}: license {i} is not a JSON object")
        _check_fields(lic, _LICENSE_FIELDS, f"{RUN_RECORD}: license {i}")
    return doc


def _check_fields(doc: dict[str, Any], fields: dict[str, type | tuple[type, ...]], where: str) -> None:
    for key, kind in fields.items():
        value = doc.get(key)
        if isinstance(value, bool) or not isinstance(value, kind):  # JSON true is no number
            raise RunRecordError(f"{where}: {key!r} is missing or not a {_json_type(kind)}")


def _json_type(kind: type | tuple[type, ...]) -> str:
    first = kind[0] if isinstance(kind, tuple) else kind
    return {str: "string", int: "number", float: "number", dict: "JSON object", list: "list"}[first]
