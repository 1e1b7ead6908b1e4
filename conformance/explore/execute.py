"""One program against the target, every request and status change recorded.

`Run` sends a program's rounds (a round of several steps together, one
connection each, released by one barrier) and keeps what the chooser needs
to know about the state it reached: which leases were acknowledged until
when, which ended, which licenses are suspended or revoked. Everything sent
is recorded in a `History` as the model checker reads it; licenses are
created fresh for every run (their creation is an op too), so a replay
starts from the same state as the run it replays.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from leasecheck.conformance.accepted import beyond_common_length
from leasecheck.conformance.target import LicenseFixture, NotRunnable, Target
from leasecheck.core.client import ApiError, Exchange, Http, hardware_binding, new_key
from leasecheck.core.history import History, management_op
from leasecheck.core.timeutil import parse_rfc3339, wait_until

from .judge import MODEL
from .steps import Program, Round, Step

#: The spec's largest Idempotency-Key and fingerprint (specs/openapi.yaml maxLength). Beyond
#: `COMMON_LENGTH` a server may refuse them with a 400/422 of its own; their ops say so (`Op.oversized`).
MAX_KEY_LENGTH = 255
MAX_FINGERPRINT_LENGTH = 256
#: Time allowed for a request at a boundary to be answered (it must land on its side of the boundary).
ANSWER_SECONDS = 0.1
#: Connections a run keeps open: the widest round it sends.
CONNECTIONS = 4


@dataclass(frozen=True)
class Pool:
    """The licenses of one run, as the program sees them (by index)."""

    licenses: tuple[LicenseFixture, ...]
    seconds_per_minute: float

    @property
    def seats(self) -> tuple[int, ...]:
        return tuple(f.seats or 0 for f in self.licenses)


def provision(target: Target, history: History, seats: Sequence[int], timeouts: Sequence[int]) -> Pool:
    """Fresh licenses (seats and timeout in policy minutes, pairwise), each recorded as a
    `create_license` op, so the model knows both."""
    out = []
    for n, timeout_minutes in zip(seats, timeouts, strict=True):
        sent = time.time()
        f = target.license(seats=n, timeout_minutes=timeout_minutes, purpose="explore")
        history.add(
            management_op(
                "create_license",
                f.name,
                sent,
                time.time(),
                200,
                seats=f.seats,
                timeout=f.timeout_minutes * target.settings.minute,
            )
        )
        out.append(f)
    return Pool(tuple(out), target.settings.minute)


def fingerprint(tag: str, device: int) -> str:
    """Device `device` of a run: every third one of the spec's largest length, all of those
    sharing everything but their last characters (a server that cuts them short merges them)."""
    short = f"fp-{tag}-{device}"
    if device % 3 != 2:
        return short
    return (f"fp-{tag}-" + "w" * MAX_FINGERPRINT_LENGTH)[: MAX_FINGERPRINT_LENGTH - 8] + f"{device:08d}"


class Run:
    """One execution of a program; also the observed state the chooser reads."""

    def __init__(self, target: Target, pool: Pool, history: History, *, deadline: float) -> None:
        self.target = target
        self.pool = pool
        self.history = history
        self.deadline = deadline
        self.tag = uuid.uuid4().hex[:8]
        self.long_prefix = ("k-" + self.tag + "-" + "x" * MAX_KEY_LENGTH)[: MAX_KEY_LENGTH - 32]
        self.https: list[Http] = [target.new_http() for _ in range(CONNECTIONS)]
        self.bodies: dict[int, dict[str, Any]] = {}
        self.keys: dict[int, str] = {}
        self.endpoint: dict[int, str] = {}
        self.tokens: dict[int, str] = {}  # checkout sid -> lease token it was answered
        self.owner: dict[str, int] = {}  # token -> license index of its first grant
        self.device_of: dict[int, int] = {}  # checkout sid -> device
        self.sent_under: dict[int, int] = {}  # checkout/checkin sid -> license index
        self.acks: dict[str, Exchange] = {}  # token -> latest acknowledgement under its owner
        self.ended: set[str] = set()
        self.status: list[str] = ["active"] * len(pool.licenses)
        self.changes: list[int] = [0] * len(pool.licenses)  # status changes that took effect, per license
        self.changes_seen: dict[int, int] = {}  # keyed request sid -> its license's changes when answered
        self.granted_in: dict[str, int] = {}  # token -> its license's changes when first granted
        self.executed: list[Round] = []
        self.waited = 0.0  # seconds this run spent waiting for a time boundary
        self.step_of: dict[int, int] = {}  # history op index -> sid of the step that sent it
        self.skipped: list[str] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        for h in self.https:
            h.close()

    # ------------------------------------------------------------------ observed state
    def lease_state(self, token: str, now: float) -> str:
        """live, near (in the last stretch before lease_expires_at), expired or ended."""
        if token in self.ended:
            return "ended"
        start, end = self.window(token)
        if now > end + self.target.clock.bound():
            return "expired"
        if now > start + (end - start) * 0.8:
            return "near"
        return "live"

    def window(self, token: str) -> tuple[float, float]:
        """The latest acknowledged window of a lease, on the local clock."""
        ack = self.acks[token]
        to_local = self.target.clock.to_local
        return to_local(parse_rfc3339(ack.json["meta"]["timestamp"])), to_local(
            parse_rfc3339(ack.data["lease_expires_at"])
        )

    def boundary(self, token: str, at: str) -> float:
        """The latest instant before a lease's expiry at which the model still judges a refusal
        (its late-heartbeat margin, tolerance and the clock bound, less the time an answer
        takes), or the first after it at which its seat must be free (the reclaim delay)."""
        start, end = self.window(token)
        accepted, bound = MODEL.accepted, self.target.clock.bound()
        if at == "before":
            return end - accepted.late_heartbeat_margin * (end - start) - MODEL.tolerance - bound - ANSWER_SECONDS
        return end + accepted.reclaim_delay + MODEL.tolerance + bound + ANSWER_SECONDS

    def record_state(self, sid: int, now: float) -> str:
        """What a reuse of request `sid`'s Idempotency-Key meets in the server's store: a key of
        the largest length or not, the lease it answered live or ended since, the license's
        status changed since or not. A store keyed or sized by any of these (a column's width,
        the lease row, the license's version) forgets the record in one of these states only."""
        parts = ["longest key" if len(self.keys[sid]) >= MAX_KEY_LENGTH else "short key"]
        if self.endpoint[sid] == "checkout":
            token = self.tokens.get(sid)
            if token is None:
                parts.append("refused")
            else:
                ended = token in self.ended or (token in self.acks and self.lease_state(token, now) == "expired")
                parts.append("its lease ended" if ended else "its lease live")
        if self.changes[self.sent_under[sid]] > self.changes_seen.get(sid, 0):
            parts.append("status changed since")
        return ", ".join(parts)

    def held_through(self, token: str, now: float) -> str:
        """ ", held through a status change" for a live lease granted before its license's last
        status change (the model's leases outlive a suspension it may or may not end), else ""."""
        if self.lease_state(token, now) not in ("live", "near"):
            return ""
        return ", held through a status change" if self.granted_in[token] < self.changes[self.owner[token]] else ""

    def pool_state(self, lic: int, now: float) -> str:
        """full or free, and whether leases held through a status change hold some of its seats."""
        full = "full" if self.held(lic, now) >= self.pool.seats[lic] else "free"
        through = any(self.held_through(t, now) for t, o in self.owner.items() if o == lic and t in self.acks)
        return full + (", some held through a status change" if through else "")

    def held(self, lic: int, now: float) -> int:
        return sum(
            1 for t, o in self.owner.items() if o == lic and self.lease_state(t, now) in ("live", "near", "expired")
        )

    # ------------------------------------------------------------------ sending
    def play(self, program: Program) -> None:
        for rnd in program:
            if time.time() >= self.deadline:
                self.skipped.append("the budget ended before the program did")
                return
            self.round(rnd)

    def round(self, rnd: Round) -> None:
        if len(rnd) == 1:
            if self.step(rnd[0], self.https[0]):
                self.executed.append(rnd)
            return
        barrier = threading.Barrier(len(rnd))
        sent: list[bool] = [False] * len(rnd)

        def one(i: int) -> None:
            barrier.wait()
            sent[i] = self.step(rnd[i], self.https[i % CONNECTIONS])

        with ThreadPoolExecutor(max_workers=len(rnd)) as pool:
            list(pool.map(one, range(len(rnd))))
        done = tuple(s for s, ok in zip(rnd, sent, strict=True) if ok)
        if done:
            self.executed.append(done)

    def step(self, s: Step, http: Http) -> bool:
        """Send one step; False when it could not be sent here (what it needs is missing)."""
        if s.op == "checkout":
            return self._checkout(s, http)
        if s.op in ("heartbeat", "checkin"):
            return self._lease_call(s, http)
        if s.op == "wait":
            return self._wait(s)
        return self._management(s)

    def _key(self, s: Step) -> str:
        if s.key == "long":
            return self.long_prefix + uuid.uuid4().hex
        if s.key != "fresh" and s.key_of in self.keys:
            return self.keys[s.key_of]
        return new_key()

    def _checkout(self, s: Step, http: Http) -> bool:
        f = self.pool.licenses[s.lic]
        if s.key in ("replay", "other-license") and s.key_of in self.bodies and self.endpoint[s.key_of] == "checkout":
            body = self.bodies[s.key_of]
        else:
            body = hardware_binding(fingerprint(self.tag, s.device or 0))
        key = self._key(s)
        ex = self.target.client(f, http).checkout(body, idempotency_key=key)
        with self._lock:
            self.bodies[s.sid], self.keys[s.sid], self.endpoint[s.sid] = body, key, "checkout"
            self.device_of[s.sid] = s.device or 0
            self.sent_under[s.sid] = s.lic
            self.changes_seen[s.sid] = self.changes[s.lic]
            op = self.history.record(ex, f.name)
            op.oversized = beyond_common_length(key, body) is not None
            self.step_of[len(self.history.ops) - 1] = s.sid
            token = ex.lease_token if ex.ok else None
            if token:
                self.tokens[s.sid] = token
                self.owner.setdefault(token, s.lic)
                self.granted_in.setdefault(token, self.changes[s.lic])
                if self.owner[token] == s.lic and _acknowledges(ex):
                    self.acks[token] = ex
                    self.ended.discard(token)
        return True

    def _lease_call(self, s: Step, http: Http) -> bool:
        f = self.pool.licenses[s.lic]
        c = self.target.client(f, http)
        if s.op == "heartbeat":
            token = self.tokens.get(s.lease) if s.lease is not None else None
            if token is None:
                return False
            ex = c.heartbeat(token)
            body: dict[str, Any] = {"lease_token": token}
            key = None
        else:
            source = self.bodies.get(s.key_of) if s.key == "replay" and s.key_of is not None else None
            replay = source is not None and self.endpoint.get(s.key_of or -1) == "checkin"
            token = source["lease_token"] if replay and source else self.tokens.get(s.lease or -1)
            if token is None:
                return False
            body, key = {"lease_token": token}, self._key(s)
            ex = c.checkin(token, idempotency_key=key)
        with self._lock:
            if key is not None:
                self.bodies[s.sid], self.keys[s.sid], self.endpoint[s.sid] = body, key, "checkin"
                self.sent_under[s.sid] = s.lic
                self.changes_seen[s.sid] = self.changes[s.lic]
            op = self.history.record(ex, f.name, lease_token=token)
            op.oversized = beyond_common_length(key, None) is not None  # the token is the server's own
            self.step_of[len(self.history.ops) - 1] = s.sid
            if self.owner.get(token) == s.lic:
                if s.op == "heartbeat" and _acknowledges(ex):
                    self.acks[token] = ex
                elif ex.ok or (ex.status is not None and 400 <= ex.status < 500 and ex.status != 429):
                    self.ended.add(token)  # checked in, or refused as ended: no longer ours to use
        return True

    def _wait(self, s: Step) -> bool:
        token = self.tokens.get(s.lease) if s.lease is not None else None
        if token is None or token not in self.acks:
            return False
        at = self.boundary(token, s.at or "after")
        if at > self.deadline:
            self.skipped.append(f"{s.render()}: past the budget")
            return False
        t0 = time.time()
        wait_until(at)
        self.waited += time.time() - t0
        return True

    def _management(self, s: Step) -> bool:
        f = self.pool.licenses[s.lic]
        sent = time.time()
        try:
            self.target.set_status(f, s.op)
            status: int | None = 200
        except NotRunnable:
            return False
        except ApiError as exc:
            status = exc.exchange.status if exc.exchange is not None else None
        with self._lock:
            self.history.add(management_op(s.op, f.name, sent, time.time(), status))
            self.step_of[len(self.history.ops) - 1] = s.sid
            if status == 200:
                self.changes[s.lic] += 1
                self.status[s.lic] = {"suspend": "suspended", "reinstate": "active", "revoke": "revoked"}[s.op]
        return True


def _acknowledges(ex: Exchange) -> bool:
    """A success whose times can be read (TIME-05 judges the others)."""
    try:
        parse_rfc3339(ex.json["meta"]["timestamp"])
        parse_rfc3339(ex.data["lease_expires_at"])
    except (KeyError, TypeError, ValueError):
        return False
    return True
