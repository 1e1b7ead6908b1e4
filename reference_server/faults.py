"""The fault gallery: the reference server, deliberately broken in one named way.

A conformance suite is worth the bugs it catches. Each fault here is a bug
real lease servers have shipped, written as the smallest change to the
correct server: a subclass overriding one step of `Runtime` (leases.py),
`Idempotency` or `Envelopes`, or a handler replaced on the `Api`. The correct
code holds no fault logic (it only names the steps a fault overrides); a
fault exists only in a server started with `leasecheck serve --fault NAME`,
which says so on stderr before it listens.

`breaks` names the requirement IDs (specs/requirements.yaml) the bug
violates; tests/gallery/ proves that `leasecheck conformance` fails each
of them, and `leasecheck gallery` writes the table (the suite's mutation score).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from nacl.signing import SigningKey
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from leasecheck.core.client import new_key
from leasecheck.core.signing import ALG, public_key_b64, sign

from . import clock
from .envelopes import REPLAYED_HEADER, Envelopes, json_response
from .errors import LEASE_NOT_FOUND, ApiError, unauthorized
from .idempotency import Answer, Idempotency, fingerprint, require_key
from .leases import Runtime
from .management import DEFAULT_TIMEOUT_MINUTES
from .store import IdempotencyRecord, Lease, License, Policy, Tx
from .validation import CHECKOUT, LEASE_TOKEN, binding_identity, check_object, parse_json

if TYPE_CHECKING:
    from .app import Api

#: How long a racy fault waits between its check and its write. Real servers
#: put a log write, an RPC or a GC pause there; a few ms is a modest window.
#: benchmarks/bench_race_catch.py varies it (milliseconds, in the environment).
RACE_WINDOW_SECONDS = float(os.environ.get("LEASECHECK_FAULT_RACE_WINDOW_MS", "5")) / 1000


@dataclass(frozen=True)
class Fault:
    name: str
    area: str  # the requirement area the bug belongs to
    breaks: tuple[str, ...]  # requirement IDs the suite must fail
    description: str  # the real-world bug it mimics
    install: Callable[[Api], None]
    race: bool = False  # caught only when requests interleave (see benchmarks/bench_race_catch.py)


FAULTS: dict[str, Fault] = {}


def _fault(
    name: str, area: str, breaks: tuple[str, ...], description: str, *, race: bool = False
) -> Callable[[Any], Any]:
    """Register a fault: decorates a Runtime/Idempotency/Envelopes subclass or an install function."""

    def register(obj: Any) -> Any:
        if isinstance(obj, type) and issubclass(obj, Runtime):
            install = _runtime(obj)
        elif isinstance(obj, type) and issubclass(obj, Idempotency):
            install = _idempotency(obj)
        elif isinstance(obj, type) and issubclass(obj, Envelopes):
            install = _envelopes(obj)
        else:
            install = obj
        FAULTS[name] = Fault(name, area, breaks, description, install, race)
        return obj

    return register


def _runtime(cls: type[Runtime]) -> Callable[[Api], None]:
    def install(api: Api) -> None:
        api.runtime = cls(api.store, api.settings)

    return install


def _idempotency(cls: type[Idempotency]) -> Callable[[Api], None]:
    def install(api: Api) -> None:
        old = api.runtime.idempotency
        api.runtime.idempotency = cls(old.ttl_seconds, old.conflict_status, old.conflict_code)

    return install


def _envelopes(cls: type[Envelopes]) -> Callable[[Api], None]:
    def install(api: Api) -> None:
        api.envelopes = cls(api.keys, api.settings.behaviour.timestamp_style)

    return install


def install(api: Api, name: str) -> Fault:
    """Break `api` the way fault `name` says (called by create_app before routes exist)."""
    fault = FAULTS[name]
    fault.install(api)
    return fault


def warning_line(name: str) -> str:
    f = FAULTS[name]
    return (
        f"WARNING: FAULT INJECTED: {f.name} — this server is deliberately broken ({f.description}); "
        f"it violates {', '.join(f.breaks)}. Never use it for anything but testing a test suite."
    )


def table() -> str:
    """`leasecheck serve --list-faults`: one line per fault."""
    width = max(map(len, FAULTS))
    bwidth = max(len(",".join(f.breaks)) for f in FAULTS.values())
    lines = [f"{'fault':<{width}}  {'area':<11}  {'breaks':<{bwidth}}  bug it mimics"]
    for f in FAULTS.values():
        lines.append(
            f"{f.name:<{width}}  {f.area:<11}  {','.join(f.breaks):<{bwidth}}  {f.description}"
            + ("  [race]" if f.race else "")
        )
    return "\n".join(lines)


def _lease_from_row(row: Any) -> Lease | None:
    return None if row is None else Lease(**{k: row[k] for k in row})


# ====================================================================== capacity
@_fault(
    "race-check-then-insert",
    "capacity",
    ("CAP-04",),
    "the seat count and the lease insert run in separate transactions (time-of-check to time-of-use): "
    "simultaneous checkouts all see a free seat",
    race=True,
)
class CheckThenInsert(Runtime):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._counted = threading.local()

    def checkout(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        with self.store.read() as tx:  # BUG: counted outside the transaction that inserts
            counted = tx.count_live_leases(license_id, clock.now())
        time.sleep(RACE_WINDOW_SECONDS)
        self._counted.value = counted
        try:
            return super().checkout(license_id, key, body)
        finally:
            self._counted.value = None

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        counted = getattr(self._counted, "value", None)
        return super().seats_in_use(tx, license_id, now) if counted is None else counted


@_fault(
    "off-by-one-capacity",
    "capacity",
    ("CAP-02", "CAP-04"),
    "the pool counts as full only when seats in use exceed the limit (> instead of >=): N seats grant N + 1 leases",
)
class OffByOne(Runtime):
    def allocate_seat(self, tx: Tx, lic: License, policy: Policy, identity: str, seats: int, now: float) -> Lease:
        return super().allocate_seat(tx, lic, policy, identity, seats + 1, now)  # BUG: same as `in_use > seats`


@_fault(
    "zero-seats-unlimited",
    "capacity",
    ("CAP-05",),
    "max_floating_users 0 read as 'no limit', a common configuration convention",
)
class ZeroMeansUnlimited(Runtime):
    def seats(self, policy: Policy) -> int:
        if policy.max_floating_users == 0:
            return 2**31  # BUG: zero is not "unlimited"
        return super().seats(policy)


def _over_capacity_429(api: Api) -> None:
    # BUG: a full pool answered like a rate limit, which clients are told to retry
    api.runtime.behaviour = replace(api.runtime.behaviour, over_capacity_status=429)


_fault(
    "over-capacity-429",
    "capacity",
    ("CAP-02",),
    "a full pool is answered 429 Too Many Requests, so clients retry instead of giving up",
)(_over_capacity_429)


@_fault(
    "reconnect-takes-extra-seat",
    "capacity",
    ("CAP-06",),
    "a device checking out again gets its old lease back, but the reconnect also registered a new seat "
    "(FlexNet: an extra seat consumed on reconnect)",
)
class ReconnectTakesExtraSeat(Runtime):
    def held_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> Lease | None:
        held = super().held_lease(tx, license_id, identity, now)
        if held is not None:  # BUG: a seat row for the reconnect, never handed out, never freed
            tx.insert_lease(replace(held, token=self.new_token(), issued_at=now))
        return held


# ====================================================================== checkin
@_fault(
    "checkin-does-not-free",
    "checkin",
    ("LIFE-03", "CHK-01"),
    "checkin answers 200 but never ends the lease, so its seat stays held until it expires",
)
class CheckinKeepsSeat(Runtime):
    def _release(self, tx: Tx, license_id: str, token: str, now: float) -> dict[str, Any]:
        lic = self._license(tx, license_id)
        policy = self._policy(tx, lic)
        self.reclaim_expired(tx, license_id, now)
        lease = self.find_lease(tx, license_id, token)
        if lease is None or not self.is_live(lease, now):
            raise ApiError(404, LEASE_NOT_FOUND, "no live lease with this lease_token for this license")
        return self.lease_data(lic, policy, lease, now, with_token=False)  # BUG: no tx.end_lease(...)


@_fault(
    "checkin-decrements-twice",
    "checkin",
    ("CHK-02", "EXP-05"),
    "seats in use are a counter that every checkin decrements, even of a lease already checked in or expired",
)
class SeatCounter(Runtime):
    """Simulated as live leases minus the extra decrements, kept in a table of the fault's own."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        with self.store.write() as tx:
            tx.conn.execute(
                "CREATE TABLE IF NOT EXISTS fault_seat_counter"
                " (license_id TEXT PRIMARY KEY, extra_frees INTEGER NOT NULL)"
            )

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        row = tx.conn.execute(
            "SELECT extra_frees FROM fault_seat_counter WHERE license_id = ?", (license_id,)
        ).fetchone()
        return super().seats_in_use(tx, license_id, now) - (row[0] if row else 0)

    def _release(self, tx: Tx, license_id: str, token: str, now: float) -> dict[str, Any]:
        self.reclaim_expired(tx, license_id, now)
        lease = self.find_lease(tx, license_id, token)
        if lease is None or self.is_live(lease, now):
            return super()._release(tx, license_id, token, now)
        # BUG: the lease no longer holds a seat, but the counter goes down again
        tx.conn.execute(
            "INSERT INTO fault_seat_counter (license_id, extra_frees) VALUES (?, 1)"
            " ON CONFLICT (license_id) DO UPDATE SET extra_frees = extra_frees + 1",
            (license_id,),
        )
        lic = self._license(tx, license_id)
        return self.lease_data(lic, self._policy(tx, lic), lease, now, with_token=False)


# ====================================================================== idempotency
@_fault(
    "idempotency-keys-global",
    "idempotency",
    ("IDEM-07",),
    "Idempotency-Keys live in one space for all customers, so another license's key replays its answer",
)
class GlobalKeys(Idempotency):
    def scope(self, license_id: str) -> str:
        return "*"  # BUG: not scoped to the license


@_fault(
    "key-reuse-replayed",
    "idempotency",
    ("IDEM-05",),
    "a key reused with a different body replays the first answer instead of being refused (the body is never compared)",
)
class BodyNotCompared(Idempotency):
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
        scope = self.scope(license_id)
        record = tx.idempotency_get(scope, endpoint, key, not_before=now - self.ttl_seconds)
        if record is not None:
            return Answer(record.data, replayed=True)  # BUG: no fingerprint comparison
        data = work()
        tx.idempotency_put(IdempotencyRecord(scope, endpoint, key, fingerprint(body), 200, data, now))
        return Answer(data)


class _RunsAgain(Idempotency):
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
        scope = self.scope(license_id)
        fp = fingerprint(body)
        record = tx.idempotency_get(scope, endpoint, key, not_before=now - self.ttl_seconds)
        if record is not None and record.fingerprint != fp:
            raise ApiError(
                self.conflict_status, self.conflict_code, "this Idempotency-Key was used with a different body"
            )
        data = work()  # BUG: a stored answer only guards against a changed body; the request runs again
        if record is None:
            tx.idempotency_put(IdempotencyRecord(scope, endpoint, key, fp, 200, data, now))
        return Answer(data)


def _replay_creates_new_lease(api: Api) -> None:
    # On a server that gives every checkout its own seat (the honest variant
    # new-seat-per-fingerprint), a replay that runs again takes another seat.
    api.runtime.behaviour = replace(api.runtime.behaviour, same_identity="new_seat")
    _idempotency(_RunsAgain)(api)


_fault(
    "replay-creates-new-lease",
    "idempotency",
    ("IDEM-03", "IDEM-08", "IDEM-09"),
    "a replayed checkout runs again instead of returning the stored answer; each checkout takes its own seat, "
    "so every retry takes another",
)(_replay_creates_new_lease)


def _missing_key_accepted(api: Api) -> None:
    async def checkout(request: Request) -> Response:
        lic = await api._license(request)
        key = request.headers.get("idempotency-key") or new_key()  # BUG: a missing key is made up
        body = await api._body(request, CHECKOUT)
        answer = await run_in_threadpool(api.runtime.checkout, lic.id, require_key(key), body)
        return api.envelopes.signed(answer.data, replayed=answer.replayed)

    async def checkin(request: Request) -> Response:
        lic = await api._license(request)
        key = request.headers.get("idempotency-key") or new_key()  # BUG: a missing key is made up
        body = await api._body(request, LEASE_TOKEN)
        answer = await run_in_threadpool(api.runtime.checkin, lic.id, require_key(key), body)
        return api.envelopes.signed(answer.data, replayed=answer.replayed)

    api.checkout, api.checkin = checkout, checkin  # type: ignore[method-assign]


_fault(
    "missing-key-accepted",
    "idempotency",
    ("IDEM-01", "IDEM-02"),
    "checkout and checkin without an Idempotency-Key are accepted with a key the server makes up, "
    "so a client's retry takes or frees another seat",
)(_missing_key_accepted)


@_fault(
    "replay-unsigned",
    "idempotency",
    ("IDEM-04", "SIG-01"),
    "a replay returns the cached body, which was stored before it was signed",
)
class UnsignedReplays(Envelopes):
    def signed(self, data: Any, *, replayed: bool = False) -> Response:
        if replayed:  # BUG: no signature on the replay path
            return json_response({"data": data, "meta": self.meta()}, 200, {REPLAYED_HEADER: "true"})
        return super().signed(data)


@_fault(
    "idempotency-insert-race",
    "idempotency",
    ("IDEM-08",),
    "the key is looked up outside the transaction that stores it: simultaneous duplicates all miss, "
    "and every one but the first crashes on the unique key (500)",
    race=True,
)
class KeyCheckThenInsert(Runtime):
    def checkout(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        scope = self.idempotency.scope(license_id)
        with self.store.read() as tx:  # BUG: the lookup is not in the transaction that inserts
            seen = tx.conn.execute(
                "SELECT 1 FROM idempotency WHERE scope = ? AND endpoint = 'checkout' AND key = ?", (scope, key)
            ).fetchone()
        if seen is not None:
            return super().checkout(license_id, key, body)
        time.sleep(RACE_WINDOW_SECONDS)
        identity = binding_identity(body)
        with self.store.write() as tx:
            now = clock.now()
            data = self._grant(tx, license_id, identity, now)
            tx.idempotency_put(IdempotencyRecord(scope, "checkout", key, fingerprint(body), 200, data, now))
            return Answer(data)


def _idempotency_before_auth(api: Api) -> None:
    cache: dict[tuple[str, str, str], Any] = {}

    def wrap(endpoint: str, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def cached(request: Request) -> Response:
            key = request.headers.get("idempotency-key")
            slot = (endpoint, key or "", hashlib.sha256(await request.body()).hexdigest())
            if key and slot in cache:  # BUG: answered from the cache before anyone is authenticated
                return api.envelopes.signed(cache[slot], replayed=True)
            response: Response = await handler(request)
            if key and response.status_code == 200:
                cache[slot] = json.loads(response.body)["data"]
            return response

        return cached

    api.checkout = wrap("checkout", api.checkout)  # type: ignore[method-assign]
    api.checkin = wrap("checkin", api.checkin)  # type: ignore[method-assign]


_fault(
    "idempotency-before-auth",
    "auth",
    ("AUTH-03", "IDEM-07"),
    "an idempotency cache in front of authentication, keyed by Idempotency-Key and body only: "
    "anyone replaying a key gets the stored lease",
)(_idempotency_before_auth)


# ====================================================================== expiry
@_fault(
    "never-expire",
    "expiry",
    ("EXP-01",),
    "lease_expires_at is printed but never compared with the clock: abandoned leases hold their seats forever",
)
class NeverExpires(Runtime):
    def is_live(self, lease: Lease, now: float) -> bool:
        return lease.ended_at is None  # BUG: no `expires_at > now`

    def reclaim_expired(self, tx: Tx, license_id: str, now: float) -> None:
        pass

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        return tx.conn.execute(
            "SELECT count(*) FROM leases WHERE license_id = ? AND ended_at IS NULL", (license_id,)
        ).fetchone()[0]


@_fault(
    "zombie-seats",
    "expiry",
    ("EXP-01",),
    "the reaper that ends expired leases never runs and the seat count trusts it: an expired lease is dead "
    "to its client but its seat is never freed (Keygen: dead machines never culled)",
)
class ZombieSeats(Runtime):
    def reclaim_expired(self, tx: Tx, license_id: str, now: float) -> None:
        pass  # BUG: the reaper job is never scheduled

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        return tx.conn.execute(
            "SELECT count(*) FROM leases WHERE license_id = ? AND ended_at IS NULL", (license_id,)
        ).fetchone()[0]


#: expire-late: the grace the reaper adds, in policy minutes.
GRACE_MINUTES = 5


@_fault(
    "expire-late",
    "expiry",
    ("EXP-01",),
    f"the reaper grants a grace of {GRACE_MINUTES} timeout minutes that lease_expires_at does not show, "
    "so an abandoned seat comes free long after the promised instant",
)
class ExpiresLate(Runtime):
    def _grace(self) -> float:
        return GRACE_MINUTES * self.settings.minute_seconds

    def is_live(self, lease: Lease, now: float) -> bool:
        return lease.ended_at is None and lease.expires_at + self._grace() > now  # BUG: hidden grace

    def reclaim_expired(self, tx: Tx, license_id: str, now: float) -> None:
        tx.end_expired_leases(license_id, now - self._grace())

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        return tx.count_live_leases(license_id, now - self._grace())


@_fault(
    "expire-early",
    "expiry",
    ("EXP-02", "TIME-04"),
    "the stored deadline is half the window the answer promises (the heartbeat interval used as the timeout), "
    "so a seat is given away and a late heartbeat refused before lease_expires_at",
)
class ExpiresEarly(Runtime):
    def _half(self, policy: Policy) -> float:
        return policy.floating_timeout_minutes * self.settings.minute_seconds / 2

    def deadline(self, policy: Policy, now: float) -> float:
        return clock.later(now, self._half(policy))  # BUG: half the timeout is stored...

    def lease_data(self, lic: License, policy: Policy, lease: Lease, now: float, *, with_token: bool) -> dict[str, Any]:
        data = super().lease_data(lic, policy, lease, now, with_token=with_token)
        if lease.ended_at is None:  # ...and the whole timeout promised
            data["lease_expires_at"] = clock.rfc3339(
                lease.expires_at + self._half(policy), self.behaviour.timestamp_style
            )
        return data


@_fault(
    "heartbeat-revives-taken-seat",
    "expiry",
    ("EXP-03",),
    "a heartbeat revives an expired lease without looking at the pool, even after its seat went to someone else",
)
class RevivesAnyway(Runtime):
    def revive_or_refuse(self, tx: Tx, lease: Lease, policy: Policy, now: float) -> Lease:
        if lease.end_reason != "expired":
            return super().revive_or_refuse(tx, lease, policy, now)
        expires_at = self.deadline(policy, now)  # BUG: no seat check
        tx.revive_lease(lease.token, expires_at)
        return replace(lease, expires_at=expires_at, ended_at=None, end_reason=None)


# ====================================================================== timing
@_fault(
    "heartbeat-does-not-extend",
    "timing",
    ("TIME-03",),
    "a heartbeat records that the client is alive and answers 200, but leaves lease_expires_at where it was",
)
class HeartbeatOnlyTouches(Runtime):
    def extend(self, tx: Tx, lease: Lease, policy: Policy, now: float) -> Lease:
        return lease  # BUG: last-seen updated (elsewhere), expiry not


@_fault(
    "heartbeat-shortens",
    "timing",
    ("TIME-02",),
    "a heartbeat sets the expiry to now plus the heartbeat interval (half the timeout), "
    "moving it earlier when the client heartbeats early",
)
class HeartbeatShortens(Runtime):
    def extend(self, tx: Tx, lease: Lease, policy: Policy, now: float) -> Lease:
        expires_at = clock.later(now, policy.floating_timeout_minutes * self.settings.minute_seconds / 2)  # BUG
        tx.extend_lease(lease.token, expires_at)
        return replace(lease, expires_at=expires_at)


@_fault(
    "policy-timeout-ignored",
    "timing",
    ("TIME-01",),
    f"every lease gets the server's default timeout ({DEFAULT_TIMEOUT_MINUTES} minutes), "
    "not the policy's floating_timeout_minutes",
)
class PolicyTimeoutIgnored(Runtime):
    def deadline(self, policy: Policy, now: float) -> float:
        return clock.later(now, DEFAULT_TIMEOUT_MINUTES * self.settings.minute_seconds)  # BUG


@_fault(
    "timestamps-without-offset",
    "timing",
    ("TIME-05",),
    "lease timestamps printed without an offset (a naive datetime.isoformat()): clients guess the zone",
)
class NaiveTimestamps(Runtime):
    def lease_data(self, lic: License, policy: Policy, lease: Lease, now: float, *, with_token: bool) -> dict[str, Any]:
        data = super().lease_data(lic, policy, lease, now, with_token=with_token)
        for name in ("issued_at", "expires_at", "lease_expires_at"):
            if name in data:
                data[name] = data[name].removesuffix("Z").removesuffix("+00:00")  # BUG
        return data


# ====================================================================== signatures
class _SignsOtherBytes(Envelopes):
    dumps: ClassVar[dict[str, Any]] = {}

    def signature(self, data: Any) -> dict[str, str]:
        active = self.keys.active()
        raw = json.dumps(data, **self.dumps).encode("utf-8")  # BUG: not the bytes the SDKs verify
        return {
            "alg": ALG,
            "kid": active.kid,
            "value": base64.b64encode(active.signing_key.sign(raw).signature).decode(),
        }


@_fault(
    "sign-sorted-keys",
    "signatures",
    ("SIG-01",),
    "data is signed serialised with sorted keys, the SDKs verify keys in arrival order",
)
class SignsSortedKeys(_SignsOtherBytes):
    dumps: ClassVar[dict[str, Any]] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}


@_fault(
    "sign-ascii-escaped",
    "signatures",
    ("SIG-03",),
    "data is signed as Python's json.dumps default prints it: non-ASCII escaped as \\uXXXX, "
    "which the SDKs do not do; only answers holding such text fail",
)
class SignsAsciiEscaped(_SignsOtherBytes):
    dumps: ClassVar[dict[str, Any]] = {"separators": (",", ":")}


@_fault(
    "sign-pretty-printed",
    "signatures",
    ("SIG-01",),
    "data is signed pretty-printed (indented), the SDKs verify compact JSON",
)
class SignsPrettyPrinted(_SignsOtherBytes):
    dumps: ClassVar[dict[str, Any]] = {"indent": 2, "ensure_ascii": False}


@_fault(
    "unpublished-signing-key",
    "signatures",
    ("SIG-01",),
    "answers are signed by a stale key baked into the build, under the kid of the published key",
)
class SignsWithUnpublishedKey(Envelopes):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.stale = SigningKey.generate()

    def signature(self, data: Any) -> dict[str, str]:
        return sign(data, self.stale, self.keys.active().kid)  # BUG: not the published key


@_fault(
    "wrong-kid",
    "signatures",
    ("SIG-02",),
    "the kid is derived one way when signing (a hash of the base64 text) and another when publishing "
    "(a hash of the raw key), so no published key has it",
)
class SignsWithWrongKid(Envelopes):
    def signature(self, data: Any) -> dict[str, str]:
        active = self.keys.active()
        kid = "ed25519-" + hashlib.sha256(public_key_b64(active.signing_key).encode()).hexdigest()[:16]  # BUG
        return sign(data, active.signing_key, kid)


def _public_keys_behind_auth(api: Api) -> None:
    published = api.public_keys

    async def public_keys(request: Request) -> Response:
        _scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if not credential.strip():  # BUG: the keys sit behind the API's auth middleware
            raise unauthorized("an Authorization header is required")
        return await published(request)

    api.public_keys = public_keys  # type: ignore[method-assign]


_fault(
    "public-keys-behind-auth",
    "system",
    ("SYS-04", "SIG-02"),
    "GET /api/v1/system/public-keys requires credentials, so a client cannot fetch the keys to verify its first answer",
)(_public_keys_behind_auth)


# ====================================================================== auth, status, lifecycle
@_fault(
    "lease-token-cross-license",
    "auth",
    ("AUTH-02",),
    "a lease is looked up by its token alone, so another license can heartbeat or check in someone else's lease",
)
class TokensAcrossLicenses(Runtime):
    def find_lease(self, tx: Tx, license_id: str, token: str) -> Lease | None:
        row = tx.conn.execute("SELECT * FROM leases WHERE token = ?", (token,)).fetchone()  # BUG: no license_id
        return _lease_from_row(row)


@_fault(
    "suspended-still-checks-out",
    "status",
    ("STAT-01",),
    "the status check refuses revoked and expired licenses but forgets suspended ones",
)
class SuspensionIgnored(Runtime):
    def check_license_state(self, lic: License, now: float) -> None:
        if lic.status == "suspended":
            lic = replace(lic, status="active")  # BUG: suspended is not checked
        super().check_license_state(lic, now)


@_fault(
    "guessable-lease-tokens",
    "lifecycle",
    ("LIFE-06",),
    "lease tokens are the time in milliseconds and a counter: short, ordered and guessable",
)
class SequentialTokens(Runtime):
    _counter = itertools.count()

    def new_token(self) -> str:
        return f"llt_{int(time.time() * 1000):x}{next(self._counter) % 65536:04x}"  # BUG: no randomness


# ====================================================================== input, envelopes
def _malformed_json_500(api: Api) -> None:
    async def body(request: Request, spec: Any, *, empty_ok: bool = False) -> dict[str, Any]:
        raw = await api._read_body(request)
        if empty_ok and not raw.strip():
            return {}
        return check_object(json.loads(raw), spec)  # BUG: a syntax error escapes as a 500

    api._body = body  # type: ignore[method-assign]


_fault(
    "malformed-json-500",
    "input",
    ("INPUT-01",),
    "a body that is not JSON raises an uncaught parse error: 500, which clients retry",
)(_malformed_json_500)


def _unknown_fields_accepted(api: Api) -> None:
    async def body(request: Request, spec: Any, *, empty_ok: bool = False) -> dict[str, Any]:
        raw = await api._read_body(request)
        if empty_ok and not raw.strip():
            return {}
        value = parse_json(raw)
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k in spec}  # BUG: unknown fields dropped silently
        return check_object(value, spec)

    api._body = body  # type: ignore[method-assign]


_fault(
    "unknown-fields-accepted",
    "input",
    ("INPUT-02",),
    "unknown request fields are silently ignored, so a typo such as 'fingerprnt' goes unnoticed",
)(_unknown_fields_accepted)


@_fault(
    "missing-field-in-data",
    "envelopes",
    ("ENV-01", "LIFE-02"),
    "the heartbeat and checkin view of a lease forgets the required device_id",
)
class LeaseViewWithoutDevice(Runtime):
    def lease_data(self, lic: License, policy: Policy, lease: Lease, now: float, *, with_token: bool) -> dict[str, Any]:
        data = super().lease_data(lic, policy, lease, now, with_token=with_token)
        if not with_token:
            del data["device_id"]  # BUG
        return data


@_fault(
    "lease-not-found-400",
    "checkin",
    ("CHK-03", "LIFE-03"),
    "an unknown or ended lease is answered 400 (as LicenseSpring's device_not_found), "
    "which tells the client its request was malformed",
)
class UnknownLeaseIs400(Runtime):
    @staticmethod
    def _as_400(exc: ApiError) -> ApiError:
        if exc.code == LEASE_NOT_FOUND:
            return ApiError(400, "DEVICE_NOT_FOUND", exc.message)  # BUG: a wrong status for the error
        return exc

    def heartbeat(self, license_id: str, token: str) -> Answer:
        try:
            return super().heartbeat(license_id, token)
        except ApiError as exc:
            raise self._as_400(exc) from None

    def checkin(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        try:
            return super().checkin(license_id, key, body)
        except ApiError as exc:
            raise self._as_400(exc) from None


@_fault(
    "error-not-enveloped",
    "envelopes",
    ("ENV-02", "ENV-01"),
    'errors leave as the web framework\'s default body {"detail": ...}: no error.code to branch on, no request id',
)
class FrameworkErrors(Envelopes):
    def error(self, exc: ApiError, request_id: str | None = None) -> Response:
        return json_response({"detail": exc.message}, exc.status, exc.headers)  # BUG


__all__ = ["FAULTS", "Fault", "install", "table", "warning_line"]
