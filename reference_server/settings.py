"""Server settings, and the `Behaviour` choices where honest servers differ.

A `Behaviour` other than the default is how the fault gallery's honest
variants (`leasecheck.gallery.variants`) run this same server; its own entry
point serves the default and offers no flag for them.

Settings travel to uvicorn worker processes through the environment (workers
are separate processes started by spawn), so `to_env`/`from_env` are the only
place that plumbing lives.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

from leasecheck.core.errors import UsageError
from leasecheck.core.server_process import TOKEN_ENV, default_key_file

SETTINGS_ENV = "LEASECHECK_SERVER_SETTINGS"

MAX_BODY_BYTES = 64 * 1024
IDEMPOTENCY_TTL_SECONDS = 24 * 3600.0
#: Connection timeouts (seconds) and bound; see connections.py for what each covers.
HEADER_TIMEOUT_SECONDS = 10.0
BODY_TIMEOUT_SECONDS = 30.0
KEEP_ALIVE_TIMEOUT_SECONDS = 5.0
MAX_TIMEOUT_SECONDS = 3600.0
#: A policy's floating_timeout_minutes when its creation names none (the facts leave the default open).
DEFAULT_TIMEOUT_MINUTES = 10


class SettingsError(UsageError, ValueError):
    """A setting the server refuses, with a one-line reason (a user's mistake: exit 2)."""


@dataclass(frozen=True)
class Behaviour:
    """Where the facts are silent, which accepted answer the server gives.

    Defaults are specs/README.md's decisions. Each field is read in exactly one
    place, so an honest variant (leasecheck.gallery.variants) is a one-line entry.
    """

    over_capacity_status: int = 409  # 403 is also accepted (CAP-02)
    over_capacity_code: str = "FLOATING_LIMIT_EXCEEDED"
    same_identity: Literal["extend", "new_seat"] = "extend"  # CAP-06
    idempotency_conflict_status: int = 422  # 409 is also accepted (IDEM-05)
    idempotency_conflict_code: str = "IDEMPOTENCY_CONFLICT"  # IDEM-06 is a SHOULD
    revive_expired_when_free: bool = False  # EXP-04
    timestamp_style: Literal["millis_z", "offset_seconds"] = "millis_z"  # TIME-05
    # The facts' silent points ("Where the sources are silent"), one field each:
    null_fields: Literal["refuse", "absent"] = "refuse"  # a JSON null in an optional request field
    replayed_header: bool = True  # send Idempotent-Replayed: true on a replay (the contract has no such header)
    replay_meta: Literal["fresh", "stored"] = "fresh"  # a replay re-signed with a new meta, or the stored bytes
    dead_lease_status: int = 404  # heartbeat/checkin of an unknown, expired or ended lease: 404, 409 or 422
    checkin_ended: Literal["refuse", "no_op"] = "refuse"  # checkin of an expired or checked-in lease
    checkin_expiry: Literal["ended", "held"] = (
        "ended"  # a checkin answer's lease_expires_at: the end, or the old expiry
    )
    extra_fields: bool = False  # answers carry fields beyond the required ones
    default_timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES  # a policy created without floating_timeout_minutes

    def problems(self) -> list[str]:
        out = []
        if self.over_capacity_status not in (403, 409):
            out.append(f"over_capacity_status must be 403 or 409, not {self.over_capacity_status}")
        if self.same_identity not in ("extend", "new_seat"):
            out.append(f"same_identity must be 'extend' or 'new_seat', not {self.same_identity!r}")
        if self.idempotency_conflict_status not in (409, 422):
            out.append(f"idempotency_conflict_status must be 409 or 422, not {self.idempotency_conflict_status}")
        for name in ("over_capacity_code", "idempotency_conflict_code"):
            if not re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", getattr(self, name)):
                out.append(f"{name} must be UPPER_SNAKE_CASE, not {getattr(self, name)!r}")
        if self.timestamp_style not in ("millis_z", "offset_seconds"):
            out.append(f"timestamp_style must be 'millis_z' or 'offset_seconds', not {self.timestamp_style!r}")
        if self.dead_lease_status not in (404, 409, 422):
            out.append(f"dead_lease_status must be 404, 409 or 422, not {self.dead_lease_status}")
        if not 1 <= self.default_timeout_minutes <= 24 * 60:
            out.append(f"default_timeout_minutes must be 1 to 1440, not {self.default_timeout_minutes}")
        for name, choices in (
            ("null_fields", ("refuse", "absent")),
            ("replay_meta", ("fresh", "stored")),
            ("checkin_ended", ("refuse", "no_op")),
            ("checkin_expiry", ("ended", "held")),
        ):
            if getattr(self, name) not in choices:
                out.append(f"{name} must be one of {', '.join(choices)}, not {getattr(self, name)!r}")
        return out


@dataclass(frozen=True)
class Settings:
    """Everything one server (all its workers) runs with."""

    db_path: Path = Path("leasecheck.db")
    key_file: Path | None = None  # None: default_key_file(db_path)
    management_token: str = ""
    minute_seconds: float = 60.0
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    behaviour: Behaviour = field(default_factory=Behaviour)
    max_body_bytes: int = MAX_BODY_BYTES
    idempotency_ttl_seconds: float = IDEMPOTENCY_TTL_SECONDS
    throttle_every: int = 0  # answer every Nth request 429 (throttle.py); 0: never
    answer_delay_ms: float = 0.0  # hold every answer this long, as a remote server (delay.py); 0: none
    header_timeout_seconds: float = HEADER_TIMEOUT_SECONDS
    body_timeout_seconds: float = BODY_TIMEOUT_SECONDS
    keep_alive_timeout_seconds: float = KEEP_ALIVE_TIMEOUT_SECONDS
    max_connections: int = 0  # per worker; 0: what the file-descriptor limit leaves room for

    @property
    def signing_key_file(self) -> Path:
        return self.key_file if self.key_file is not None else default_key_file(self.db_path)

    def problems(self) -> list[str]:
        """Every reason these settings are refused, one line each."""
        out = []
        if not (
            isinstance(self.minute_seconds, (int, float))
            and math.isfinite(self.minute_seconds)
            and self.minute_seconds > 0
        ):
            out.append(f"--minute-seconds must be a number greater than 0, not {self.minute_seconds}")
        if self.workers < 1:
            out.append(f"--workers must be at least 1, not {self.workers}")
        if not 0 <= self.port <= 65535:
            out.append(f"--port must be between 0 and 65535, not {self.port}")
        if not self.management_token:
            out.append("a management token is required")
        elif self.management_token != self.management_token.strip() or any(c.isspace() for c in self.management_token):
            out.append("the management token must not contain whitespace")
        for path, what in ((self.db_path, "--db"), (self.signing_key_file, "--key-file")):
            parent = path.expanduser().resolve().parent
            if not parent.is_dir():
                out.append(f"{what} {path}: directory {parent} does not exist")
            elif not os.access(parent, os.W_OK | os.X_OK):
                out.append(f"{what} {path}: directory {parent} is not writable")
        for flag, value in (
            ("--header-timeout", self.header_timeout_seconds),
            ("--body-timeout", self.body_timeout_seconds),
            ("--keep-alive-timeout", self.keep_alive_timeout_seconds),
        ):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= MAX_TIMEOUT_SECONDS):
                out.append(
                    f"{flag} must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS:.0f}, not {value}"
                )
        if self.max_connections < 0:
            out.append(
                f"--max-connections must be 0 (from the file-descriptor limit) or more, not {self.max_connections}"
            )
        if self.throttle_every < 0:
            out.append(f"--throttle-every must be 0 (off) or more, not {self.throttle_every}")
        if not (math.isfinite(self.answer_delay_ms) and 0 <= self.answer_delay_ms <= MAX_TIMEOUT_SECONDS * 1000):
            out.append(
                f"--answer-delay-ms must be from 0 (off) to {MAX_TIMEOUT_SECONDS * 1000:.0f}, not {self.answer_delay_ms:g}"
            )
        out.extend(self.behaviour.problems())
        return out

    def validate(self) -> Settings:
        problems = self.problems()
        if problems:
            raise SettingsError(problems[0])
        return self

    def to_env(self) -> dict[str, str]:
        """Environment for worker processes: settings as JSON, the token on its own."""
        doc = asdict(self)
        doc.pop("management_token")
        doc["db_path"] = str(self.db_path)
        doc["key_file"] = str(self.signing_key_file)
        return {SETTINGS_ENV: json.dumps(doc), TOKEN_ENV: self.management_token}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        raw = env.get(SETTINGS_ENV)
        if raw is None:
            raise SettingsError(f"{SETTINGS_ENV} is not set; start the server with `leasecheck serve`")
        doc = json.loads(raw)
        known = {f.name for f in fields(cls)}
        behaviour = Behaviour(**doc.pop("behaviour", {}))
        values = {k: v for k, v in doc.items() if k in known}
        values["db_path"] = Path(values["db_path"])
        values["key_file"] = Path(values["key_file"]) if values.get("key_file") else None
        return replace(cls(**values), behaviour=behaviour, management_token=env.get(TOKEN_ENV, ""))
