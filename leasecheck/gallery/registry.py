"""Every case of the gallery by name: the faults and the honest variants.

A fault is named for the bug a real server shipped; it documents the
requirement IDs (specs/requirements.yaml) the bug violates, which the suite
must fail, and the server `Parts` it is built from: the correct ones with one
subclass from `faults/<area>.py` swapped in. This is the one table of them;
`leasecheck serve --list-faults` prints it, the matrix runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from leasecheck.core.errors import UsageError
from leasecheck.reference_server.app import Parts
from leasecheck.reference_server.management import DEFAULT_TIMEOUT_MINUTES

from .faults import (
    auth,
    capacity,
    checkin,
    envelopes,
    expiry,
    explore,
    idempotency,
    input,
    lifecycle,
    sdk,
    signatures,
    status,
    system,
    timing,
)
from .variants import VARIANTS, Variant


class UnknownCase(UsageError):
    """A fault or variant name the gallery does not have (a user's mistake: exit 2)."""


@dataclass(frozen=True)
class Fault:
    name: str
    area: str  # the requirement area the bug belongs to (and the module in faults/ that holds it)
    breaks: tuple[str, ...]  # requirement IDs the suite must fail
    description: str  # the real-world bug it mimics
    parts: Parts  # the server it is: the correct parts with one faulty subclass
    race: bool = False  # caught only when requests interleave (see benchmarks/bench_race_catch.py)
    variant: str = "default"  # the honest variant it is built on
    #: Caught when any one of `breaks` fails: the bug shows as whichever of them the
    #: exploration's drawing reaches first (a refusal of the lease it ended, or its seat given away).
    any_of: bool = False


_FAULTS = (
    Fault(
        "race-check-then-insert",
        "capacity",
        ("CAP-04",),
        "the seat count and the lease insert run in separate transactions (time-of-check to time-of-use): "
        "simultaneous checkouts all see a free seat",
        Parts(runtime=capacity.CheckThenInsert),
        race=True,
    ),
    Fault(
        "off-by-one-capacity",
        "capacity",
        ("CAP-02", "CAP-04"),
        "the pool counts as full only when seats in use exceed the limit (> instead of >=): N seats grant N + 1 leases",
        Parts(runtime=capacity.OffByOne),
    ),
    Fault(
        "zero-seats-unlimited",
        "capacity",
        ("CAP-05",),
        "max_floating_users 0 read as 'no limit', a common configuration convention",
        Parts(runtime=capacity.ZeroMeansUnlimited),
    ),
    Fault(
        "over-capacity-429",
        "capacity",
        ("CAP-02",),
        "a full pool is answered 429 Too Many Requests, so clients retry instead of giving up",
        Parts(runtime=capacity.OverCapacityIs429),
    ),
    Fault(
        "reconnect-takes-extra-seat",
        "capacity",
        ("CAP-06",),
        "a device checking out again gets its old lease back, but the reconnect also registered a new seat "
        "(FlexNet: an extra seat consumed on reconnect)",
        Parts(runtime=capacity.ReconnectTakesExtraSeat),
    ),
    Fault(
        "checkin-does-not-free",
        "checkin",
        ("LIFE-03", "CHK-01"),
        "checkin answers 200 but never ends the lease, so its seat stays held until it expires",
        Parts(runtime=checkin.CheckinKeepsSeat),
    ),
    Fault(
        "checkin-decrements-twice",
        "checkin",
        ("CHK-02", "EXP-05"),
        "seats in use are a counter that every checkin decrements, even of a lease already checked in or expired",
        Parts(runtime=checkin.SeatCounter),
    ),
    Fault(
        "idempotency-keys-global",
        "idempotency",
        ("IDEM-07",),
        "Idempotency-Keys live in one space for all customers, so another license's key replays its answer",
        Parts(idempotency=idempotency.GlobalKeys),
    ),
    Fault(
        "key-reuse-replayed",
        "idempotency",
        ("IDEM-05",),
        "a key reused with a different body replays the first answer instead of being refused "
        "(the body is never compared)",
        Parts(idempotency=idempotency.BodyNotCompared),
    ),
    Fault(
        "replay-creates-new-lease",
        "idempotency",
        ("IDEM-03", "IDEM-08", "IDEM-09"),
        "a replayed checkout runs again instead of returning the stored answer; each checkout takes its own seat, "
        "so every retry takes another",
        Parts(idempotency=idempotency.RunsAgain),
        # On a server that gives every checkout its own seat, a replay that runs again takes another.
        variant="new-seat-per-fingerprint",
    ),
    Fault(
        "missing-key-accepted",
        "idempotency",
        ("IDEM-01", "IDEM-02"),
        "checkout and checkin without an Idempotency-Key are accepted with a key the server makes up, "
        "so a client's retry takes or frees another seat",
        Parts(api=idempotency.MissingKeyMadeUp),
    ),
    Fault(
        "replay-unsigned",
        "idempotency",
        ("IDEM-04", "SIG-01"),
        "a replay returns the cached body, which was stored before it was signed",
        Parts(envelopes=idempotency.UnsignedReplays),
    ),
    Fault(
        "idempotency-insert-race",
        "idempotency",
        ("IDEM-08",),
        "the key is looked up outside the transaction that stores it: simultaneous duplicates all miss, "
        "and every one but the first crashes on the unique key (500)",
        Parts(runtime=idempotency.KeyCheckThenInsert),
        race=True,
    ),
    Fault(
        "idempotency-before-auth",
        "auth",
        ("AUTH-03", "IDEM-07"),
        "an idempotency cache in front of authentication, keyed by Idempotency-Key and body only: "
        "anyone replaying a key gets the stored lease",
        Parts(api=auth.IdempotencyBeforeAuth),
    ),
    Fault(
        "never-expire",
        "expiry",
        ("EXP-01",),
        "lease_expires_at is printed but never compared with the clock: abandoned leases hold their seats forever",
        Parts(runtime=expiry.NeverExpires),
    ),
    Fault(
        "zombie-seats",
        "expiry",
        ("EXP-01",),
        "the reaper that ends expired leases never runs and the seat count trusts it: an expired lease is dead "
        "to its client but its seat is never freed (Keygen: dead machines never culled)",
        Parts(runtime=expiry.ZombieSeats),
    ),
    Fault(
        "expire-late",
        "expiry",
        ("EXP-01",),
        f"the reaper grants a grace of {expiry.GRACE_MINUTES} timeout minutes that lease_expires_at does not show, "
        "so an abandoned seat comes free long after the promised instant",
        Parts(runtime=expiry.ExpiresLate),
    ),
    Fault(
        "expire-early",
        "expiry",
        ("EXP-02", "TIME-04"),
        "the stored deadline is half the window the answer promises (the heartbeat interval used as the timeout), "
        "so a seat is given away and a late heartbeat refused before lease_expires_at",
        Parts(runtime=expiry.ExpiresEarly),
    ),
    Fault(
        "heartbeat-revives-taken-seat",
        "expiry",
        ("EXP-03",),
        "a heartbeat revives an expired lease without looking at the pool, even after its seat went to someone else",
        Parts(runtime=expiry.RevivesAnyway),
    ),
    Fault(
        "heartbeat-does-not-extend",
        "timing",
        ("TIME-03",),
        "a heartbeat records that the client is alive and answers 200, but leaves lease_expires_at where it was",
        Parts(runtime=timing.HeartbeatOnlyTouches),
    ),
    Fault(
        "heartbeat-shortens",
        "timing",
        ("TIME-02",),
        "a heartbeat sets the expiry to now plus the heartbeat interval (half the timeout), "
        "moving it earlier when the client heartbeats early",
        Parts(runtime=timing.HeartbeatShortens),
    ),
    Fault(
        "policy-timeout-ignored",
        "timing",
        ("TIME-01",),
        f"every lease gets the server's default timeout ({DEFAULT_TIMEOUT_MINUTES} minutes), "
        "not the policy's floating_timeout_minutes",
        Parts(runtime=timing.PolicyTimeoutIgnored),
    ),
    Fault(
        "timestamps-without-offset",
        "timing",
        ("TIME-05",),
        "lease timestamps printed without an offset (a naive datetime.isoformat()): clients guess the zone",
        Parts(runtime=timing.NaiveTimestamps),
    ),
    Fault(
        "sign-sorted-keys",
        "signatures",
        ("SIG-01",),
        "data is signed serialised with sorted keys, the SDKs verify keys in arrival order",
        Parts(envelopes=signatures.SignsSortedKeys),
    ),
    Fault(
        "sign-ascii-escaped",
        "signatures",
        ("SIG-03",),
        "data is signed as Python's json.dumps default prints it: non-ASCII escaped as \\uXXXX, "
        "which the SDKs do not do; only answers holding such text fail",
        Parts(envelopes=signatures.SignsAsciiEscaped),
    ),
    Fault(
        "sign-pretty-printed",
        "signatures",
        ("SIG-01",),
        "data is signed pretty-printed (indented), the SDKs verify compact JSON",
        Parts(envelopes=signatures.SignsPrettyPrinted),
    ),
    Fault(
        "unpublished-signing-key",
        "signatures",
        ("SIG-01",),
        "answers are signed by a stale key baked into the build, under the kid of the published key",
        Parts(envelopes=signatures.SignsWithUnpublishedKey),
    ),
    Fault(
        "wrong-kid",
        "signatures",
        ("SIG-02",),
        "the kid is derived one way when signing (a hash of the base64 text) and another when publishing "
        "(a hash of the raw key), so no published key has it",
        Parts(envelopes=signatures.SignsWithWrongKid),
    ),
    Fault(
        "public-keys-behind-auth",
        "system",
        ("SYS-04", "SIG-02"),
        "GET /api/v1/system/public-keys requires credentials, so a client cannot fetch the keys to verify "
        "its first answer",
        Parts(api=system.PublicKeysBehindAuth),
    ),
    Fault(
        "lease-token-cross-license",
        "auth",
        ("AUTH-02",),
        "a lease is looked up by its token alone, so another license can heartbeat or check in someone else's lease",
        Parts(runtime=auth.TokensAcrossLicenses),
    ),
    Fault(
        "suspended-still-checks-out",
        "status",
        ("STAT-01",),
        "the status check refuses revoked and expired licenses but forgets suspended ones",
        Parts(runtime=status.SuspensionIgnored),
    ),
    Fault(
        "guessable-lease-tokens",
        "lifecycle",
        ("LIFE-06",),
        "lease tokens are the time in milliseconds and a counter: short, ordered and guessable",
        Parts(runtime=lifecycle.SequentialTokens),
    ),
    Fault(
        "malformed-json-500",
        "input",
        ("INPUT-01",),
        "a body that is not JSON raises an uncaught parse error: 500, which clients retry",
        Parts(api=input.MalformedJsonCrashes),
    ),
    Fault(
        "unknown-fields-accepted",
        "input",
        ("INPUT-02",),
        "unknown request fields are silently ignored, so a typo such as 'fingerprnt' goes unnoticed",
        Parts(api=input.UnknownFieldsDropped),
    ),
    Fault(
        "wrong-types-coerced",
        "input",
        ("INPUT-03",),
        "a lax parser reads a null as absent (honest) but turns numbers and booleans into strings and "
        '"yes"/"no" into booleans, so a client sending the wrong type never hears of it',
        Parts(api=input.LaxTypes),
    ),
    Fault(
        "missing-field-in-data",
        "envelopes",
        ("ENV-01", "LIFE-02"),
        "the heartbeat and checkin view of a lease forgets the required device_id",
        Parts(runtime=envelopes.LeaseViewWithoutDevice),
    ),
    Fault(
        "lease-not-found-400",
        "checkin",
        ("CHK-03", "LIFE-03"),
        "an unknown or ended lease is answered 400 (as LicenseSpring's device_not_found), "
        "which tells the client its request was malformed",
        Parts(runtime=checkin.UnknownLeaseIs400),
    ),
    Fault(
        "error-not-enveloped",
        "envelopes",
        ("ENV-02", "ENV-01"),
        'errors leave as the web framework\'s default body {"detail": ...}: no error.code to branch on, no request id',
        Parts(envelopes=envelopes.FrameworkErrors),
    ),
    Fault(
        "error-without-request-id",
        "sdk",
        ("SDK-03",),
        "error envelopes leave without meta.request_id (assigned after the error handler ran), "
        "so the SDK's ApiError carries no request id for support to find the request by",
        Parts(envelopes=sdk.ErrorsWithoutRequestId),
    ),
    # Faults in combinations (faults/explore.py): the scenario areas pass them, exploration catches them.
    Fault(
        "checkin-key-body-not-compared",
        "explore",
        ("EXPL-01",),
        "only checkout bodies are compared with the stored record: a checkin key reused for another lease replays the first checkin, and the second lease is never ended",
        Parts(idempotency=explore.CheckinBodyNotCompared),
    ),
    Fault(
        "idempotency-keys-truncated",
        "explore",
        ("EXPL-02",),
        "Idempotency-Keys are stored in a 64-character column: two long keys that differ only at the end collide, and the second request is refused as a reused key",
        Parts(idempotency=explore.KeysTruncated),
    ),
    Fault(
        "fingerprint-truncated",
        "explore",
        ("EXPL-01",),
        "fingerprints are kept to 64 characters, so two devices whose long fingerprints share a prefix are one device and the second gets the first's lease",
        Parts(runtime=explore.FingerprintTruncated),
    ),
    Fault(
        "reconnect-revives-checked-in",
        "explore",
        ("EXPL-01",),
        "a device checking out again after its checkin gets the checked-in lease_token back, revived, "
        "so a token its holder gave up is live again",
        Parts(runtime=explore.ReconnectRevivesCheckedIn),
    ),
    Fault(
        "checkout-ends-device-elsewhere",
        "explore",
        ("EXPL-01", "EXPL-02"),
        "a device's checkout under one license ends its live leases under every other license, so those "
        "leases' heartbeats and checkins are refused before their lease_expires_at and their seats given away",
        Parts(runtime=explore.CheckoutEndsDeviceElsewhere),
        any_of=True,
    ),
    Fault(
        "long-keys-not-remembered",
        "explore",
        ("EXPL-01",),
        "Idempotency-Keys longer than a cache's 250-byte key limit are silently not stored, so a replay "
        "of one is done again and answers another lease once the first has ended",
        Parts(idempotency=explore.LongKeysNotRemembered),
    ),
    Fault(
        "keys-scoped-to-license-version",
        "explore",
        ("EXPL-01",),
        "stored answers are keyed by the license's entitlement_version, which a suspend or reinstate bumps, "
        "so a replay after a status change is done again and answers another lease",
        Parts(idempotency=explore.KeysScopedToLicenseVersion),
    ),
    Fault(
        "keys-replayed-across-endpoints",
        "explore",
        ("EXPL-01",),
        "stored answers are looked up by license and key alone, so a checkin sent with a checkout's key "
        "replays that checkout's answer and ends nothing",
        Parts(idempotency=explore.KeysAcrossEndpoints),
    ),
    Fault(
        "seats-counted-since-status-change",
        "explore",
        ("EXPL-01",),
        "the seats-in-use count starts again at a suspend or reinstate, so leases held through a suspension "
        "hold no seat and a refilled pool grants more leases than it has seats",
        Parts(runtime=explore.SeatsCountedSinceStatusChange),
    ),
)

FAULTS: dict[str, Fault] = {f.name: f for f in _FAULTS}


def fault(name: str) -> Fault:
    """The fault called `name`; UnknownCase (exit 2) naming every fault otherwise."""
    if name not in FAULTS:
        raise UnknownCase(f"unknown fault {name!r}; faults are: {', '.join(sorted(FAULTS))}")
    return FAULTS[name]


def variant(name: str) -> Variant:
    """The honest variant called `name`; UnknownCase (exit 2) naming every variant otherwise."""
    if name not in VARIANTS:
        raise UnknownCase(f"unknown variant {name!r}; variants are: {', '.join(VARIANTS)}")
    return VARIANTS[name]


def warning_line(f: Fault) -> str:
    """What a faulty server says on stderr before it listens: nobody runs one by mistake."""
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
