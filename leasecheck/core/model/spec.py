"""The contract as an executable, sequential model: what one honest server answers.

State: licenses (status, seats, timeout), leases (owner license, device,
acknowledged expiry, ended or not) and idempotency records per (license,
endpoint, key). `Server` applies one request at one server instant and
answers as an honest server would, following one pick for each honest
variant (`Choices`: the same switches `options.Accepted` accepts all of).

This is the statement of the rules the checker's interval reasoning
abstracts: any history produced by running requests through a `Server` in
some order, each at an instant inside its window, is legal, and the checker
must pass it (the simulator in `simulate.py` does exactly that, and the
tests check it over many seeds and every combination of choices). `faults`
switch on known bug classes, so the same harness shows the checker catching
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Bug classes a `Server` can be told to have (for tests of the checker).
FAULTS = frozenset(
    {
        "over_grant",  # ignores the seat limit
        "leaky_checkin",  # a checkin answers 200 but the seat stays taken
        "forget_keys",  # no idempotency: a replay makes a new lease
        "zombie_heartbeat",  # heartbeats of checked-in leases succeed
        "cross_license",  # heartbeat and checkin ignore which license owns the lease
        "early_expiry",  # treats leases as expired halfway to lease_expires_at
        "grant_suspended",  # ignores the license status on checkout
        "global_keys",  # Idempotency-Keys not scoped to the license
    }
)


@dataclass(frozen=True)
class Choices:
    """One honest server's pick for each place the contract leaves open."""

    same_device: Literal["reuse", "new_seat", "refuse"] = "new_seat"
    revive_expired: bool = False
    ended_status: int = 404  # 404, 409, 410 or 422
    capacity_status: int = 409  # 403 or 409
    capacity_code: str = "FLOATING_LIMIT_EXCEEDED"
    conflict_status: int = 422  # 409 or 422
    checkin_of_ended_ok: bool = False  # 200 no-op instead of a refusal
    suspension_ends_leases: bool = False
    store_errors: bool = False  # replay stored refusals (Stripe) or evaluate again
    replay_current_expiry: bool = False  # a replay shows the lease's current expiry (AIP-155)
    reaper_delay: float = 0.0  # an expired lease keeps its seat this long (<= Accepted.reclaim_delay)
    early_expiry: float = 0.0  # fraction of a lease's duration before E it counts as expired (<= margin)


@dataclass
class LicenseState:
    seats: int
    timeout: float
    status: str = "active"


@dataclass
class LeaseState:
    token: str
    license: str
    device: str | None
    granted_at: float
    expires_at: float
    ended: bool = False


@dataclass
class Record:
    body: str | None
    answer: Answer


@dataclass(frozen=True)
class Answer:
    status: int
    lease: str | None = None
    expires: float | None = None
    device_id: str | None = None
    code: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Server:
    """An honest lease server in miniature (plus optional `faults`)."""

    choices: Choices = field(default_factory=Choices)
    faults: frozenset[str] = frozenset()
    per_license: dict[str, Choices] = field(default_factory=dict)  # picks that differ by license
    licenses: dict[str, LicenseState] = field(default_factory=dict)
    leases: dict[str, LeaseState] = field(default_factory=dict)
    records: dict[tuple[str, str, str], Record] = field(default_factory=dict)
    _n: int = 0
    _leaked: set[str] = field(default_factory=set)
    _active: dict[str, dict[str, LeaseState]] = field(default_factory=dict)  # per license: may hold a seat

    # ------------------------------------------------------------- management
    def create(self, license: str, seats: int, timeout: float) -> Answer:
        self.licenses[license] = LicenseState(seats, timeout)
        return Answer(201)

    def set_status(self, license: str, action: str, now: float) -> Answer:
        lic = self.licenses.get(license)
        if lic is None:
            return Answer(404, code="NOT_FOUND")
        if lic.status == "revoked" or (action == "reinstate" and lic.status == "active"):
            return Answer(409, code="INVALID_STATE")
        lic.status = {"suspend": "suspended", "reinstate": "active", "revoke": "revoked"}[action]
        if action != "reinstate" and self.choices_for(license).suspension_ends_leases:
            for le in self._active.get(license, {}).values():
                le.ended = True
        return Answer(200)

    # ---------------------------------------------------------------- reading
    def choices_for(self, license: str) -> Choices:
        return self.per_license.get(license, self.choices)

    def expired(self, le: LeaseState, now: float) -> bool:
        early = 0.5 if "early_expiry" in self.faults else self.choices_for(le.license).early_expiry
        return now >= le.expires_at - early * (le.expires_at - le.granted_at)

    def holding(self, license: str, now: float) -> list[LeaseState]:
        """Leases that take a seat of `license` now."""
        delay = self.choices_for(license).reaper_delay
        active = self._active.get(license)
        if not active:
            return []
        out = [le for le in active.values() if not le.ended and now < le.expires_at + delay]
        if len(out) < len(active):
            leaked = self._leaked
            out += [le for le in active.values() if le.token in leaked and (le.ended or now >= le.expires_at + delay)]
            for le in list(active.values()):
                if le.token not in leaked and (le.ended or now >= le.expires_at + delay):
                    del active[le.token]  # ended or reaped (a revival adds it back)
        return out

    def _hold(self, le: LeaseState) -> None:
        self._active.setdefault(le.license, {})[le.token] = le

    def _key(self, license: str, endpoint: str, key: str) -> tuple[str, str, str]:
        return ("*" if "global_keys" in self.faults else license, endpoint, key)

    # ---------------------------------------------------------------- runtime
    def checkout(self, license: str, device: str | None, key: str, body: str | None, now: float) -> Answer:
        lic = self.licenses.get(license)
        if lic is None:
            return Answer(401, code="UNAUTHORIZED")
        if lic.status != "active" and "grant_suspended" not in self.faults:
            return Answer(403, code=f"LICENSE_{lic.status.upper()}")
        rk = self._key(license, "checkout", key)
        rec = self.records.get(rk) if "forget_keys" not in self.faults else None
        if rec is not None:
            if rec.body != body:
                return Answer(self.choices_for(license).conflict_status, code="IDEMPOTENCY_CONFLICT")
            a = rec.answer
            le = self.leases.get(a.lease or "")
            if a.ok and le is not None and self.choices_for(license).replay_current_expiry and not le.ended:
                return Answer(a.status, a.lease, le.expires_at, a.device_id)
            return a
        answer = self._checkout(license, lic, device, now)
        if answer.ok or self.choices_for(license).store_errors:
            self.records[rk] = Record(body, answer)
        return answer

    def _checkout(self, license: str, lic: LicenseState, device: str | None, now: float) -> Answer:
        c = self.choices_for(license)
        mine = [le for le in self.holding(license, now) if le.device == device and not le.ended]
        mine = [le for le in mine if not self.expired(le, now)]
        if mine and c.same_device == "reuse":
            le = mine[0]
            le.expires_at = now + lic.timeout
            le.granted_at = now
            return Answer(200, le.token, le.expires_at, device)
        if mine and c.same_device == "refuse":
            return Answer(422, code="FINGERPRINT_TAKEN")
        if len(self.holding(license, now)) >= lic.seats and "over_grant" not in self.faults:
            return Answer(c.capacity_status, code=c.capacity_code)
        self._n += 1
        token = f"llt_{license}_{self._n}"
        le = self.leases[token] = LeaseState(token, license, device, now, now + lic.timeout)
        self._hold(le)
        return Answer(200, token, now + lic.timeout, device)

    def _lease(self, license: str, token: str) -> LeaseState | None:
        le = self.leases.get(token)
        if le is None or (le.license != license and "cross_license" not in self.faults):
            return None
        return le

    def heartbeat(self, license: str, token: str, now: float) -> Answer:
        lic = self.licenses.get(license)
        if lic is None:
            return Answer(401, code="UNAUTHORIZED")
        c = self.choices_for(license)
        le = self._lease(license, token)
        if le is None:
            return Answer(c.ended_status, code="LEASE_NOT_FOUND")
        if le.ended and "zombie_heartbeat" not in self.faults:
            return Answer(c.ended_status, code="LEASE_NOT_FOUND")
        if self.expired(le, now):
            others = [o for o in self.holding(le.license, now) if o is not le]
            if not c.revive_expired or len(others) >= self.licenses[le.license].seats:
                return Answer(c.ended_status, code="LEASE_EXPIRED")
        le.ended = False
        le.granted_at = now
        le.expires_at = now + self.licenses[le.license].timeout
        self._hold(le)
        return Answer(200, token, le.expires_at, le.device)

    def checkin(self, license: str, token: str, key: str, body: str | None, now: float) -> Answer:
        if license not in self.licenses:
            return Answer(401, code="UNAUTHORIZED")
        rk = self._key(license, "checkin", key)
        rec = self.records.get(rk) if "forget_keys" not in self.faults else None
        if rec is not None:
            if rec.body != body:
                return Answer(self.choices_for(license).conflict_status, code="IDEMPOTENCY_CONFLICT")
            return rec.answer
        answer = self._checkin(license, token, now)
        if answer.ok or self.choices_for(license).store_errors:
            self.records[rk] = Record(body, answer)
        return answer

    def _checkin(self, license: str, token: str, now: float) -> Answer:
        c = self.choices_for(license)
        le = self._lease(license, token)
        if le is None:
            return Answer(c.ended_status, code="LEASE_NOT_FOUND")
        if le.ended or self.expired(le, now):
            if c.checkin_of_ended_ok:
                le.ended = True
                return Answer(200, token, None, le.device)
            return Answer(c.ended_status, code="LEASE_NOT_FOUND")
        le.ended = True
        if "leaky_checkin" in self.faults:
            self._leaked.add(token)
        return Answer(200, token, None, le.device)
