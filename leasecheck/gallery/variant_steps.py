"""Honest variants that make their choice in a step of the server, not in its settings.

The reference server issues 32-character lease tokens and lets a duplicate of
an in-flight keyed request wait for the first's stored answer. Other honest
servers issue shorter or longer tokens (the facts leave a token's length
open) or refuse the in-flight duplicate with 409 (the IETF draft's SHOULD):
those choices live here, as subclasses overriding one public step each, the
way `faults/*.py` do, so the reference server carries only its own behaviour.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from leasecheck.reference_server.app import Api
from leasecheck.reference_server.errors import IDEMPOTENCY_IN_PROGRESS, ApiError
from leasecheck.reference_server.idempotency import Idempotency
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.validation import Field, Spec

#: ZeroMQ's Z85 alphabet: 85 printable characters, so 128 random bits fit in 20 of them.
Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
#: Characters after `llt_` of a long token (a JWT-sized bearer credential).
LONG_TOKEN_CHARS = 600
#: A server issuing longer tokens must take them back: its own limit, 4 KiB.
LONG_LEASE_TOKEN: Spec = {"lease_token": Field("string", required=True, min_length=1, max_length=4096)}


def z85_token() -> str:
    """`llt_` and 128 random bits in 20 Z85 characters."""
    n = secrets.randbits(128)
    return "llt_" + "".join(Z85[(n // 85**i) % 85] for i in range(20))


def long_token() -> str:
    """`llt_` and 600 URL-safe characters, longer than the spec's 512 for a request's lease_token."""
    return "llt_" + secrets.token_urlsafe(LONG_TOKEN_CHARS)[:LONG_TOKEN_CHARS]


class Z85Tokens(Runtime):
    def new_token(self) -> str:
        return z85_token()


class LongTokens(Runtime):
    def new_token(self) -> str:
        return long_token()


class TakesLongTokens(Api):
    """Heartbeat and checkin bodies may carry the long tokens this server issues."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lease_token_body = LONG_LEASE_TOKEN


class InFlightRefused(Idempotency):
    """A duplicate while the first request with its key runs is answered 409, in this worker process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    @contextmanager
    def in_flight(self, license_id: str, endpoint: str, key: str) -> Iterator[None]:
        slot = (self.scope(license_id), endpoint, key)
        with self._lock:
            busy = slot in self._in_flight
            self._in_flight.add(slot)
        if busy:
            raise ApiError(
                409, IDEMPOTENCY_IN_PROGRESS, "a request with this Idempotency-Key is still in flight; retry"
            )
        try:
            yield
        finally:
            with self._lock:
                self._in_flight.discard(slot)
