"""Idempotency faults: keys scoped, compared, replayed or stored wrongly (IDEM-*)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from leasecheck.core.client import new_key
from leasecheck.reference_server import clock
from leasecheck.reference_server.app import Api
from leasecheck.reference_server.envelopes import REPLAYED_HEADER, Envelopes, json_response
from leasecheck.reference_server.idempotency import Answer, Idempotency
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import IdempotencyRecord
from leasecheck.reference_server.validation import binding_identity

from . import RACE_WINDOW_SECONDS, bug
from .checkin import SeatCounter


@bug("idempotency-keys-global", "IDEM-07")
class GlobalKeys(Idempotency):
    """Idempotency-Keys live in one space for all customers, so another license's key replays its answer."""

    def scope(self, license_id: str) -> str:
        return "*"  # BUG: not scoped to the license


@bug("key-reuse-replayed", "IDEM-05")
class BodyNotCompared(Idempotency):
    """A key reused with a different body replays the first answer instead of being refused (the body is never
    compared).
    """

    def refuse_changed_body(self, record: IdempotencyRecord, body: Any) -> None:
        pass  # BUG: the body is never compared with the one the key was first used with


@bug("replay-creates-new-lease", "IDEM-03", "IDEM-08", "IDEM-09", variant="new-seat-per-fingerprint")
class RunsAgain(Idempotency):
    """A replayed checkout runs again instead of returning the stored answer; each checkout takes its own seat, so every
    retry takes another.
    """

    def replay(self, record: IdempotencyRecord, work: Callable[[], dict[str, Any]]) -> Answer:
        return Answer(work())  # BUG: runs again instead of returning record.data


@bug("missing-key-accepted", "IDEM-01", "IDEM-02")
class MissingKeyMadeUp(Api):
    """Checkout and checkin without an Idempotency-Key are accepted with a key the server makes up, so a client's retry
    takes or frees another seat.
    """

    def idempotency_key(self, request: Request) -> str:
        if not request.headers.get("idempotency-key"):
            return new_key()  # BUG: a missing key is made up, so a retry is a new request
        return super().idempotency_key(request)


@bug("replay-unsigned", "IDEM-04", "SIG-01")
class UnsignedReplays(Envelopes):
    """A replay returns the cached body, which was stored before it was signed."""

    def signed(self, data: Any, *, replayed: bool = False) -> Response:
        if replayed:  # BUG: no signature on the replay path
            return json_response({"data": data, "meta": self.meta()}, 200, {REPLAYED_HEADER: "true"})
        return super().signed(data)


@bug("idempotency-insert-race", "IDEM-08", race=True)
class KeyCheckThenInsert(Runtime):
    """The key is looked up outside the transaction that stores it: simultaneous duplicates all miss, and every one but
    the first crashes on the unique key (500).
    """

    def checkout(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        scope = self.idempotency.scope(license_id)
        with self.store.read() as tx:  # BUG: the lookup is not in the transaction that stores the key
            seen = tx.idempotency_record(scope, "checkout", key) is not None
        if seen:
            return super().checkout(license_id, key, body)
        time.sleep(RACE_WINDOW_SECONDS)
        identity = binding_identity(body)
        with self.store.write() as tx:
            now = clock.now()
            data = self.grant_lease(tx, license_id, identity, now)
            self.idempotency.remember(tx, license_id, "checkout", key, body, data, now)
            return Answer(data)


@bug("checkin-key-not-remembered", "IDEM-10")
class CheckinKeyNotRemembered(SeatCounter):
    """Checkin is taken for naturally idempotent, so its Idempotency-Key is never stored, and seats in use are a
    counter every checkin decrements: a retried checkin runs again and frees a second seat.
    """

    def checkin(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        with self.store.write() as tx:  # BUG: no idempotency record; the retry is done again
            return Answer(self.release_lease(tx, license_id, body["lease_token"], clock.now()))
