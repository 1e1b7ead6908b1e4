"""The run's own checks: what must hold over all of a generated run, in the order it happened.

schemathesis judges one answer at a time against the document. These judge
answers against each other: tokens issued and ended, expiries given, the
license named. They run over every phase's exchanges in the order the answers
arrived, and hold however often the links were applied (link values are
applied only part of the time, so heartbeat and checkin see many tokens no
checkout returned). Only valid requests (problems.py) are judged; every token
any checkout returned counts as issued.

An answer binds a later request only if it arrived before that request was
sent (`answered_before`). Requests that overlap, as a far run's phases do
side by side, may have been applied by the server in either order: a
heartbeat sent while a checkin was still unanswered may honestly answer 200
after the checkin's 200 arrived, and a checkout sent before a refusal was
answered may hold a seat the refusal saw taken.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from typing import Any

from leasecheck.conformance.accepted import ENDED_LEASE_WRITE
from leasecheck.core.timeutil import parse_rfc3339

from .observation import Observation
from .operations import ALWAYS_ALLOWED, CHECKIN_OP, CHECKOUT_OP, HEARTBEAT_OP, RUNTIME
from .problems import beyond_common_length, valid
from .run import GeneratedRun

#: A container checkout's identity fields (any one binds it).
CONTAINER_FIELDS = ("cluster_id", "namespace", "pod_name", "container_id")
#: Seconds: TIME-01's rounding tolerance, reused for TIME-02.
EXPIRY_ROUNDING = 1.0


def check_run(run: GeneratedRun) -> None:
    """Every own check, in the order its findings are reported."""
    checkout_answers(run)
    Lifecycle(run).walk()


# ------------------------------------------------------------------ LIFE-01
def checkout_answers(run: GeneratedRun) -> None:
    """LIFE-01: a valid checkout with a binding identity is not refused as invalid (422), and
    not refused as full (403/409) while fewer leases than seats could be held on a license the
    suite made: the distinct tokens granted to checkouts sent before the refusal arrived, plus
    the checkouts sent by then that were never answered (any of them may hold a seat).

    A checkout by an identity that may still hold a lease is not judged here: the facts leave
    a second checkout by a holder open, and CAP-06 accepts its refusal with 403, 409 or 422.
    Nor is a 422 to a value longer than `COMMON_LENGTH`: a server may limit lengths (facts)."""
    seats = run.fixture.seats or 0
    checkouts = [o for o in run.observations if o.operation == CHECKOUT_OP and o.documented_method]
    held = _SeatsPossiblyHeld(checkouts)
    holders = _IdentitiesPossiblyHolding(run, checkouts)
    for o in checkouts:
        if o.status is None or (o.status == 200 and o.exchange.lease_token is not None):
            continue
        if not valid(o, run.auth):
            continue
        _, body = o.sent_json()
        if holders.may_hold(o):
            continue
        if o.status == 422 and has_identity(body) and beyond_common_length(o) is None:
            run.fail(
                "LIFE-01",
                "checkout: 422 for a binding identity",
                f"{o.describe()}: a schema-valid checkout with a binding identity was refused as invalid (422)",
                o.exchange,
            )
        elif o.status in (403, 409) and run.provisioned:
            could_hold = held.by(o.exchange.received_at)
            if could_hold < seats:
                run.fail(
                    "LIFE-01",
                    "checkout: refused with free seats",
                    f"{o.describe()}: refused although at most {could_hold} of {seats} seats "
                    "could be held on this license when the refusal arrived",
                    o.exchange,
                )


class _SeatsPossiblyHeld:
    """How many seats the checkouts sent by a moment may hold: distinct tokens granted, plus
    checkouts never answered."""

    def __init__(self, checkouts: list[Observation]) -> None:
        grants = sorted(
            (o.exchange.sent_at, o.exchange.lease_token)
            for o in checkouts
            if o.status == 200 and o.exchange.lease_token is not None
        )
        self._grant_sent = [sent for sent, _ in grants]
        tokens: set[str | None] = set()
        self._distinct: list[int] = []  # distinct tokens among the first i+1 grants
        for _, token in grants:
            tokens.add(token)
            self._distinct.append(len(tokens))
        self._unanswered_sent = sorted(o.exchange.sent_at for o in checkouts if o.status is None)

    def by(self, moment: float) -> int:
        granted = bisect_right(self._grant_sent, moment)
        return (self._distinct[granted - 1] if granted else 0) + bisect_right(self._unanswered_sent, moment)


class _IdentitiesPossiblyHolding:
    """Whether a checkout's binding identity may hold a lease when the checkout arrives: a
    checkout by the same identity was sent before its answer arrived, and was granted or never
    answered, and no checkin of the token it was granted had answered 200 before it was sent.
    Expiry is not counted on: a lease may have been extended, or revived, since."""

    def __init__(self, run: GeneratedRun, checkouts: list[Observation]) -> None:
        self._by_identity: dict[tuple[str, ...], list[Observation]] = {}
        for o in checkouts:
            granted = o.status == 200 and o.exchange.lease_token is not None
            if granted or o.status is None:
                identity = identity_of(o.sent_json()[1])
                if identity is not None:
                    self._by_identity.setdefault(identity, []).append(o)
        self._ended: dict[str, float] = {}  # token -> when the first 200 to its checkin arrived
        for o in run.observations:
            token = o.lease_token_sent() if o.operation == CHECKIN_OP and o.status == 200 else None
            if token is not None:
                self._ended[token] = min(self._ended.get(token, o.exchange.received_at), o.exchange.received_at)

    def may_hold(self, o: Observation) -> bool:
        identity = identity_of(o.sent_json()[1])
        for g in self._by_identity.get(identity, ()) if identity is not None else ():
            if g is o or g.exchange.sent_at > o.exchange.received_at:
                continue
            token = g.exchange.lease_token
            ended = self._ended.get(token) if token is not None else None
            if ended is None or not answered_before(ended, o):
                return True
        return False


def answered_before(answer_received_at: float, o: Observation) -> bool:
    """Whether an answer that arrived at `answer_received_at` had arrived when `o` was sent,
    so the server applied its request first (otherwise the two overlapped)."""
    return answer_received_at <= o.exchange.sent_at


def has_identity(body: Any) -> bool:
    """A binding identity by the facts: a fingerprint for hardware, a container field for containers.
    Blank strings do not count (honest servers may read them as absent)."""
    return identity_of(body) is not None


def identity_of(body: Any) -> tuple[str, ...] | None:
    """The binding identity a checkout body names (`has_identity`), as a key; None without one."""
    if not isinstance(body, dict):
        return None

    def given(name: str) -> str | None:
        v = body.get(name)
        return v if isinstance(v, str) and v.strip() != "" else None

    if body.get("is_container") is True:
        fields = tuple(given(f) or "" for f in CONTAINER_FIELDS)
        return ("container", *fields) if any(fields) else None
    fingerprint = given("fingerprint")
    return ("hardware", fingerprint) if fingerprint is not None else None


# ------------------------------------------------------------------ the lease life cycle
class Lifecycle:
    """Walks the runtime exchanges in order, remembering the tokens issued and ended and the
    latest expiry given per token; judges CHK-03, LIFE-03, TIME-02, CHK-02 and (through
    `LicenseIdentity`) LIFE-05."""

    def __init__(self, run: GeneratedRun) -> None:
        self.run = run
        self.issued: set[str] = set()
        #: token -> when the first 200 to its checkin arrived (since a checkout last returned it)
        self.ended: dict[str, float] = {}
        #: token -> (when the answer arrived, the lease_expires_at it gave), per answer
        self.expiry: dict[str, list[tuple[float, float]]] = {}
        self.keys = Counter(o.sent_header("idempotency-key") for o in run.observations)
        self.license = LicenseIdentity(run)

    def walk(self) -> None:
        for o in self.run.observations:
            if o.operation in RUNTIME and o.documented_method and o.status is not None:
                self.step(o)

    def step(self, o: Observation) -> None:
        data = o.exchange.data
        granted: dict[str, Any] | None = data if o.status == 200 and isinstance(data, dict) else None
        if o.operation == CHECKOUT_OP and granted is not None:
            self._issued(granted, o.exchange.received_at)  # whatever the request looked like
        if not valid(o, self.run.auth):
            return
        if granted is not None:
            self.license.check(o, granted)
        token = o.lease_token_sent() if o.operation != CHECKOUT_OP else None
        if token is None:
            return
        if token not in self.issued:
            self._never_issued(o, granted)
        elif o.operation == HEARTBEAT_OP:
            self._after_checkin(o, token, granted)
            self._expiry_kept(o, token, granted)
        else:
            self._second_checkin(o, token)
            if granted is not None:
                self.ended.setdefault(token, o.exchange.received_at)

    def _issued(self, data: dict[str, Any], answered_at: float) -> None:
        token = data.get("lease_token")
        if isinstance(token, str):
            self.issued.add(token)
            self.ended.pop(token, None)  # returned again by a checkout: treat as live, judge nothing
            self._raise(token, data.get("lease_expires_at"), answered_at)

    def _never_issued(self, o: Observation, granted: dict[str, Any] | None) -> None:
        """CHK-03: heartbeat and checkin refuse a lease_token no checkout returned."""
        if granted is not None:
            self.run.fail(
                "CHK-03",
                f"{o.operation}: 200 for a token never issued",
                f"{o.describe()}: a lease_token no checkout returned was accepted",
                o.exchange,
            )

    def _after_checkin(self, o: Observation, token: str, granted: dict[str, Any] | None) -> None:
        """LIFE-03: a lease whose checkin answered 200 cannot be heartbeated (by a heartbeat sent
        after that answer arrived: one sent before may have been applied first)."""
        ended_at = self.ended.get(token)
        if ended_at is None or not answered_before(ended_at, o):
            return
        self.run.exercised["LIFE-03"] += 1
        if granted is not None:
            self.run.fail(
                "LIFE-03",
                "heartbeat: 200 after checkin",
                f"{o.describe()}: the lease was heartbeated after its checkin answered 200",
                o.exchange,
            )

    def _expiry_kept(self, o: Observation, token: str, granted: dict[str, Any] | None) -> None:
        """TIME-02: a heartbeat never answers an expiry earlier than one already given."""
        if granted is None:
            return
        given = granted.get("lease_expires_at")
        new = _epoch(given)
        known = [t for at, t in self.expiry.get(token, ()) if answered_before(at, o)]
        if known and isinstance(given, str):
            self.run.exercised["TIME-02"] += 1
            if new is not None and new < max(known) - EXPIRY_ROUNDING:
                self.run.fail(
                    "TIME-02",
                    "heartbeat: expiry moved earlier",
                    f"{o.describe()}: lease_expires_at {given} is "
                    f"{max(known) - new:.3f} s earlier than one already given",
                    o.exchange,
                )
        if token not in self.ended:
            self._raise(token, given, o.exchange.received_at)

    def _second_checkin(self, o: Observation, token: str) -> None:
        """CHK-02: a second checkin of an ended lease, with a new key, answers 200, 404, 409 or 422."""
        if token not in self.ended or self.keys[o.sent_header("idempotency-key")] != 1:
            return
        self.run.exercised["CHK-02"] += 1
        if o.status not in (*ENDED_LEASE_WRITE, *ALWAYS_ALLOWED):
            self.run.fail(
                "CHK-02",
                "checkin: second checkin answer",
                f"{o.describe()}: a second checkin (new key) must answer 200, 404, 409 or 422",
                o.exchange,
            )

    def _raise(self, token: str, value: Any, answered_at: float) -> None:
        """Remember an expiry given for `token`, and when its answer arrived."""
        t = _epoch(value)
        if t is not None:
            self.expiry.setdefault(token, []).append((answered_at, t))


# ------------------------------------------------------------------ LIFE-05
class LicenseIdentity:
    """LIFE-05: every answer for the run's license names the same license_id (the license's
    own when the suite made it) and the policy's license_type."""

    def __init__(self, run: GeneratedRun) -> None:
        self.run = run
        self.first: tuple[Any, Observation] | None = None

    def check(self, o: Observation, data: dict[str, Any]) -> None:
        run = self.run
        run.exercised["LIFE-05"] += 1
        lid = data.get("license_id")
        if self.first is None:
            self.first = (lid, o)
        elif lid != self.first[0]:
            run.fail(
                "LIFE-05",
                "license_id differs",
                f"{o.describe()}: license_id {lid!r} differs from "
                f"{self.first[0]!r} in an earlier answer for the same license",
                self.first[1].exchange,
                o.exchange,
            )
        if not run.provisioned:
            return
        if lid != run.fixture.license_id:
            run.fail(
                "LIFE-05",
                "license_id is not the license's",
                f"{o.describe()}: license_id {lid!r} is not the license's id {run.fixture.license_id!r}",
                o.exchange,
            )
        if data.get("license_type") != run.fixture.license_type:
            run.fail(
                "LIFE-05",
                "license_type is not the policy's",
                f"{o.describe()}: license_type {data.get('license_type')!r} is not the policy's "
                f"{run.fixture.license_type!r}",
                o.exchange,
            )


def _epoch(value: Any) -> float | None:
    try:
        return parse_rfc3339(value) if isinstance(value, str) else None
    except ValueError:
        return None
