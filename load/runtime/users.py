"""The locust user every profile builds on: lease operations, recorded.

`LeaseUser` sends checkout / heartbeat / checkin through locust's
FastHttpUser client (so locust's own stats, CSV and web UI see them), turns
each answer into a core `Exchange`, classifies it (a denial is not a
failure; locust lists it as "checkout [denied]"), and records it into the
process's `Recorder`. Parsing the envelope, naming leases and judging are
left to the core; nothing here looks inside an answer except through
`Exchange` and `Op`.
"""

from __future__ import annotations

import functools
import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

import gevent
from gevent import GreenletExit
from gevent.pool import Group
from locust import constant
from locust.contrib.fasthttp import FastHttpUser

from leasecheck.core.client import CHECKIN, CHECKOUT, HEARTBEAT, Exchange, hardware_binding, new_key
from leasecheck.core.history import Op
from leasecheck.load.config import LicenseGrant, LoadConfig

from . import hooks
from .expiry import ServerClock
from .headers import lowered
from .outcome import FAILED, OK, classify, retryable
from .plan import Plan, next_user_index

PATHS = {"checkout": CHECKOUT, "heartbeat": HEARTBEAT, "checkin": CHECKIN}
#: Built once: `json.dumps` with options builds a new encoder on every call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))
#: Every HTTP status is an answer for `classify` to judge.
ANY_STATUS = frozenset(range(100, 600))
#: This process's bounds on the server's clock (see `expiry.py`), from every answer.
CLOCK = ServerClock()


@functools.lru_cache(maxsize=4096)
def binding_payload(fingerprint: str) -> bytes:
    """A checkout body as sent, the hardware binding of `fingerprint`. Cached: a user
    checks out with the same binding again and again (a denied one every few ms)."""
    return _COMPACT_JSON.encode(hardware_binding(fingerprint)).encode("utf-8")


@dataclass
class Lease:
    """A lease this client holds. The token stays in memory; records name it by lease_ref."""

    token: str
    grant: LicenseGrant
    expires_at: float  # the acknowledged lease_expires_at (server clock)
    fingerprint: str

    @functools.cached_property
    def payload(self) -> bytes:
        """The body of its every heartbeat and checkin, encoded once per lease."""
        return _COMPACT_JSON.encode({"lease_token": self.token}).encode("utf-8")

    def request(self, kind: str, *, key: str | None, label: str) -> Request:
        """A heartbeat or checkin of this lease, as acknowledged so far."""
        return Request(
            kind,
            self.grant,
            self.payload,
            key=key,
            label=label,
            lease_token=self.token,
            expires_at=self.expires_at,
        )


@dataclass(frozen=True)
class Request:
    """One lease operation as every attempt sends it: a retry repeats it unchanged
    (the same Idempotency-Key and body), as the LicenseKit docs tell clients to."""

    kind: str  # checkout | heartbeat | checkin
    grant: LicenseGrant
    payload: bytes  # the JSON body as sent
    key: str | None  # the Idempotency-Key (heartbeats send none)
    label: str  # what locust and the report call it, e.g. "checkout (return)"
    lease_token: str | None = None
    expires_at: float | None = None  # the lease's acknowledged expiry (server clock), for heartbeat/checkin

    def live_when_sent(self, sent_at: float) -> bool:
        """Was the lease certainly live when this attempt left (each retry asks anew)?
        Unknown expiry: assume live, so a refusal stays the server's to explain."""
        return self.expires_at is None or CLOCK.certainly_live_at(sent_at, self.expires_at)


@dataclass
class Result:
    exchange: Exchange
    outcome: str
    op: Op | None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.outcome == OK


def lease_refused(res: Result) -> bool:
    status = res.exchange.status
    return status is not None and 400 <= status < 500


class LeaseUser(FastHttpUser):
    """Base for profile users: a profile's one task plays the whole scenario, then idles."""

    abstract = True
    wait_time = constant(0)
    concurrency = 64  # open-loop profiles run many sessions per user at once

    def __init__(self, environment: Any) -> None:
        plan = hooks.current_plan(environment)
        if plan is None:
            raise RuntimeError("no leasecheck run plan: the master did not publish one at test start")
        self.plan: Plan = plan
        self.config: LoadConfig = plan.config
        self.host = self.config.target
        self.configure(self.config.params)
        super().__init__(environment)
        # Out of the box locust's client raises on every 4xx/5xx (a denial: most answers
        # of a seat race) and first formats the whole conversation into the exception;
        # this user reads the status itself and marks each answer success or failure.
        self.client.client.valid_response_codes = ANY_STATUS  # type: ignore[misc]  # this client only, not the class
        self.index = next_user_index(environment, plan)
        self.tag = f"{hooks.process_tag(environment)}:u{self.index}"
        self.recorder = hooks.recorder()
        self.rng = random.Random(f"{self.config.run_id}:{self.index}")
        self.fingerprint = f"lc-{self.config.run_id}-{self.index}"
        self.sessions = Group()

    def configure(self, params: dict[str, Any]) -> None:
        """Hook for per-profile client settings (e.g. timeouts) before the client exists."""

    def on_stop(self) -> None:
        self.sessions.kill(block=True)

    # ---------------------------------------------------------------- time
    def lease_seconds(self, grant: LicenseGrant) -> float:
        return self.config.lease_seconds(grant)

    @staticmethod
    def sleep_until(t: float) -> None:
        gevent.sleep(max(0.0, t - time.time()))

    def grid_after(self, t: float, period: float) -> float:
        """The first instant of the run's shared grid (epoch + k*period) at or after t."""
        k = max(0, -(-(t - self.plan.epoch) // period))
        return self.plan.epoch + k * period

    # ----------------------------------------------------------- operations
    def send(self, req: Request, *, started_at: float | None = None) -> Result:
        """One attempt. Cancelled in flight (the run ended) it is recorded with no
        answer, so a checkin that may have reached the server still ends certainty."""
        payload = req.payload
        headers = {"Authorization": f"License {req.grant.key}", "Content-Type": "application/json"}
        if req.key is not None:
            headers["Idempotency-Key"] = req.key
        ex = Exchange.outgoing("POST", PATHS[req.kind], headers, payload, req.kind)
        try:
            answer = self.client.request(
                "POST",
                PATHS[req.kind],
                data=payload,  # type: ignore[arg-type]  # bytes, as locust documents (its hint says str)
                headers=headers,
                name=req.label,
                catch_response=True,
            )
        except GreenletExit:
            ex.received_at = time.time()
            ex.error = "cancelled: the run ended with the request in flight"
            self._record(req, ex, "cancelled", started_at)
            raise
        with answer as resp:
            ex.received_at = time.time()
            if resp.status_code:
                ex.status = resp.status_code
                ex.response_headers = lowered(resp.headers)
                ex.response_body = resp.content or b""
            else:
                err = getattr(resp, "error", None)
                ex.error = f"{type(err).__name__}: {err}" if err is not None else "no answer"
            CLOCK.learn(ex)
            outcome = classify(ex, live_when_sent=req.live_when_sent(ex.sent_at))
            if outcome == FAILED:
                resp.failure(ex.describe())
            else:
                if outcome != OK:
                    resp.request_meta["name"] = f"{req.label} [{outcome}]"
                resp.success()
        return Result(ex, outcome, self._record(req, ex, outcome, started_at))

    def _record(self, req: Request, ex: Exchange, outcome: str, started_at: float | None) -> Op | None:
        return self.recorder.attempt(
            ex,
            license=req.grant.name,
            label=req.label,
            outcome=outcome,
            user=self.tag,
            lease_token=req.lease_token,
            started_at=started_at,
        )

    def logical(
        self, req: Request, *, started_at: float | None = None, max_attempts: int = 1, backoff: float = 0.0
    ) -> Result:
        """One logical operation: `req` retried unchanged (the *same* key and body) while
        the answer is retryable, up to max_attempts, with exponential backoff and full jitter."""
        first = time.time() if started_at is None else started_at
        attempt = 0
        while True:
            attempt += 1
            res = self.send(req, started_at=started_at if attempt == 1 else None)
            if attempt >= max_attempts or not retryable(res.exchange, res.outcome):
                break
            gevent.sleep(self.rng.uniform(0, backoff * 2 ** (attempt - 1)))
        res.attempts = attempt
        self.recorder.logical(
            req.label, res.outcome, attempt, latency=res.exchange.received_at - first, t=res.exchange.received_at
        )
        return res

    def checkout(
        self,
        grant: LicenseGrant,
        *,
        fingerprint: str | None = None,
        label: str = "checkout",
        started_at: float | None = None,
        max_attempts: int = 1,
        backoff: float = 0.0,
    ) -> tuple[Result, Lease | None]:
        fp = fingerprint or self.fingerprint
        req = Request("checkout", grant, binding_payload(fp), key=new_key(), label=label)
        res = self.logical(req, started_at=started_at, max_attempts=max_attempts, backoff=backoff)
        token = res.exchange.lease_token if res.ok else None
        if token is None or res.op is None or res.op.expires_at is None:
            return res, None
        return res, Lease(token=token, grant=grant, expires_at=res.op.expires_at, fingerprint=fp)

    def heartbeat(
        self,
        lease: Lease,
        *,
        label: str = "heartbeat",
        started_at: float | None = None,
        max_attempts: int = 1,
        backoff: float = 0.0,
    ) -> Result:
        req = lease.request("heartbeat", key=None, label=label)
        res = self.logical(req, started_at=started_at, max_attempts=max_attempts, backoff=backoff)
        if res.ok and res.op is not None and res.op.expires_at is not None:
            lease.expires_at = res.op.expires_at
        return res

    def checkin(self, lease: Lease, *, label: str = "checkin", max_attempts: int = 1, backoff: float = 0.0) -> Result:
        req = lease.request("checkin", key=new_key(), label=label)
        return self.logical(req, max_attempts=max_attempts, backoff=backoff)

    def hold(
        self,
        lease: Lease,
        until: float,
        *,
        fraction: float,
        label: str = "heartbeat",
        max_attempts: int = 1,
        backoff: float = 0.0,
    ) -> bool:
        """Keep `lease` alive until `until`, heartbeating every `fraction` of the lease.
        False once the server refuses a heartbeat (4xx: the lease is gone); an
        unanswered heartbeat is not a refusal, the next one may still land."""
        interval = self.lease_seconds(lease.grant) * fraction
        while True:
            next_beat = time.time() + interval
            if next_beat >= until:
                self.sleep_until(until)
                return True
            self.sleep_until(next_beat)
            res = self.heartbeat(lease, label=label, max_attempts=max_attempts, backoff=backoff)
            if lease_refused(res):
                return False

    def idle(self) -> None:
        """After the run's end: wait to be stopped (a returning task would spin)."""
        gevent.sleep(3600)

    def unique_fingerprint(self) -> str:
        return f"lc-{self.config.run_id}-{uuid.uuid4().hex[:12]}"
