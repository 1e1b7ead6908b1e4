"""Idempotency-Key handling for checkout and checkin.

A record is scoped by (license, endpoint, key) and holds a sha256 of the
canonical request body and the 200 answer's data. It is looked up and written
inside the same write transaction that does the work, so two duplicates
racing across worker processes are serialised by SQLite: the second finds
the first's record and replays it (IDEM-08). Failed requests roll back and
leave no record, so they are evaluated afresh next time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import (
    IDEMPOTENCY_CONFLICT,
    IDEMPOTENCY_KEY_INVALID,
    IDEMPOTENCY_KEY_REQUIRED,
    IDEMPOTENCY_KEY_TOO_LONG,
    ApiError,
)
from .settings import Settings
from .store import IdempotencyRecord, Tx
from .validation import canonical

MAX_KEY_LENGTH = 255
#: Unicode's control characters (category Cc): C0, DEL and C1, one search instead of a lookup per character.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Origin:
    """The meta of a keyed request's first answer, derived from its record, so that a
    server that replays the stored bytes (Behaviour.replay_meta) can send it again."""

    request_id: str
    at: float

    @classmethod
    def of(cls, scope: str, endpoint: str, key: str, created_at: float) -> Origin:
        digest = hashlib.sha256(f"{scope}\x00{endpoint}\x00{key}\x00{created_at!r}".encode()).hexdigest()
        return cls("req_" + digest[:24], created_at)


@dataclass(frozen=True)
class Answer:
    """What a runtime operation answers: the data to sign, whether it is a replay, and
    the first answer's meta where a key recorded one."""

    data: dict[str, Any]
    replayed: bool = False
    origin: Origin | None = None


def key_problem(values: Sequence[bytes], *, optional: bool) -> ApiError | None:
    """What is wrong with the Idempotency-Key field lines of a request, or None.

    `values` are the raw field values as received, one per line. The spec's key
    is a string of 1 to 255 characters (specs/openapi.yaml); a field sent twice
    is ambiguous (which key did the client mean?), and control characters or
    bytes that are not UTF-8 cannot be a string the client meant either. An
    empty key is "no key" where one is required (`require_key` answers that,
    after credentials) and invalid where it is optional (management writes).
    """
    if not values:
        return None
    if len(values) > 1:
        return _invalid(f"the Idempotency-Key header was sent {len(values)} times; send it once")
    try:
        key = values[0].decode("utf-8")
    except UnicodeDecodeError:
        return _invalid("the Idempotency-Key header is not UTF-8 text")
    if _CONTROL.search(key):
        return _invalid("the Idempotency-Key header holds control characters")
    if not key.strip():
        return _invalid("the Idempotency-Key header is empty; send a key or no header") if optional else None
    if len(key) > MAX_KEY_LENGTH:
        return ApiError(
            400, IDEMPOTENCY_KEY_TOO_LONG, f"the Idempotency-Key is {len(key)} characters; at most {MAX_KEY_LENGTH}"
        )
    return None


def _invalid(message: str) -> ApiError:
    return ApiError(400, IDEMPOTENCY_KEY_INVALID, message)


def require_key(value: str | None) -> str:
    """The key of a checkout or checkin (Starlette's latin-1 view of the first field line)."""
    if value is None or not value.strip():
        raise ApiError(
            400, IDEMPOTENCY_KEY_REQUIRED, f"an Idempotency-Key header of 1 to {MAX_KEY_LENGTH} characters is required"
        )
    problem = key_problem([value.encode("latin-1")], optional=False)
    if problem is not None:
        raise problem
    return value


def fingerprint(body: Any) -> str:
    return hashlib.sha256(canonical(body)).hexdigest()


class Idempotency:
    """The Idempotency-Key steps of checkout and checkin, each a method so that
    the fault gallery can replace one (a key scoped too widely, a body never
    compared, a replay that runs the work again) and leave the others correct."""

    def __init__(self, ttl_seconds: float, conflict_status: int, conflict_code: str = IDEMPOTENCY_CONFLICT) -> None:
        self.ttl_seconds = ttl_seconds
        self.conflict_status = conflict_status
        self.conflict_code = conflict_code

    @classmethod
    def from_settings(cls, settings: Settings) -> Idempotency:
        """The retention and the conflict answer (IDEM-05, IDEM-06) these settings choose."""
        behaviour = settings.behaviour
        return cls(
            settings.idempotency_ttl_seconds,
            behaviour.idempotency_conflict_status,
            behaviour.idempotency_conflict_code,
        )

    @contextmanager
    def in_flight(self, license_id: str, endpoint: str, key: str) -> Iterator[None]:
        """While a keyed request runs. A duplicate waits for it on SQLite's write lock and then
        gets the stored answer (IDEM-08); the gallery's variant that answers in-flight
        duplicates 409 instead (the IETF draft's SHOULD, Stripe's answer) overrides this step."""
        yield

    def scope(self, license_id: str) -> str:
        """Keys belong to a license: the same key under another license is a new request (IDEM-07)."""
        return license_id

    def lookup(self, tx: Tx, license_id: str, endpoint: str, key: str, now: float) -> IdempotencyRecord | None:
        """The answer stored for this key, unless it has outlived the retention (then it is forgotten)."""
        scope = self.scope(license_id)
        record = tx.idempotency_record(scope, endpoint, key)  # one statement when it is fresh or absent
        if record is not None and record.created_at < now - self.ttl_seconds:
            tx.forget_idempotency(scope, endpoint, key, not_before=now - self.ttl_seconds)
            return None
        return record

    def refuse_changed_body(self, record: IdempotencyRecord, body: Any) -> None:
        """A key reused with another body is refused, never replayed (IDEM-05)."""
        if record.fingerprint != fingerprint(body):
            raise ApiError(
                self.conflict_status,
                self.conflict_code,
                "this Idempotency-Key was used with a different body; reuse the original body or generate a new key",
            )

    def remember(self, tx: Tx, license_id: str, endpoint: str, key: str, body: Any, data: Any, now: float) -> None:
        """Store the answer in the transaction that did the work, so a racing duplicate finds it (IDEM-08)."""
        tx.idempotency_put(IdempotencyRecord(self.scope(license_id), endpoint, key, fingerprint(body), 200, data, now))

    def run(
        self,
        tx: Tx,
        *,
        license_id: str,
        endpoint: str,
        key: str,
        body: Any,
        now: float,
        work: Callable[[], dict[str, Any]],
    ) -> Answer:
        """Replay the stored answer for this key, refuse a changed body, or do the work and store it."""
        record = self.lookup(tx, license_id, endpoint, key, now)
        if record is not None:
            self.refuse_changed_body(record, body)
            return self.replay(record, work)
        data = work()
        self.remember(tx, license_id, endpoint, key, body, data, now)
        return Answer(data, origin=Origin.of(self.scope(license_id), endpoint, key, now))

    def replay(self, record: IdempotencyRecord, work: Callable[[], dict[str, Any]]) -> Answer:
        """The stored answer, marked as a replay: the work is not done again (IDEM-03)."""
        return Answer(
            record.data, replayed=True, origin=Origin.of(record.scope, record.endpoint, record.key, record.created_at)
        )
