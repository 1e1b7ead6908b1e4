"""Legal histories on demand: clients driving the executable model, recorded as a client would.

Devices check out, heartbeat part of the way to expiry, check in (or abandon
the lease and maybe try to revive it later), retry refusals, replay
requests with the same Idempotency-Key (after the answer or while the first
is still in flight), lose answers in transport, and now and then do what a
confused client does (check in twice, heartbeat after checkin, check out
again while holding, present another license's token). A manager creates
each license and may suspend and reinstate it. Every request takes effect at
one instant inside its window, in that order, on one `spec.Server`; the
recorded ops carry client-clock send/receive times (each worker's clock off
the server's by up to `clock_offset`), server-clock `meta.timestamp` and
`lease_expires_at` at millisecond resolution.

So whatever `simulate` returns is explained by the order it was produced in:
the checker must pass it for every honest `Choices` — and with `faults`, the
same workload shows it catching bug classes. The benchmark uses it for its
1M-op history; the tests for legal interleavings over many seeds.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from leasecheck.core.history import History, Op

from .spec import Answer, Choices, Server

T0 = 1_750_000_000.0  # epoch of the simulated server clock's zero


@dataclass(frozen=True)
class Workload:
    """Sizes and habits of the simulated clients (probabilities per chance)."""

    licenses: int = 2
    seats: tuple[int, int] = (1, 3)
    devices: int = 4  # per license
    timeout: float = 10.0  # seconds per lease
    duration: float = 60.0  # seconds of traffic
    latency: tuple[float, float] = (0.001, 0.03)  # one way
    think: tuple[float, float] = (0.0, 0.5)
    backoff: tuple[float, float] = (0.2, 1.0)  # after a refusal
    heartbeats: tuple[int, int] = (1, 4)  # per session
    heartbeat_at: tuple[float, float] = (0.3, 0.9)  # of the way to expiry
    client_timeout: float = 2.0
    p_abandon: float = 0.1
    p_revive: float = 0.5  # after abandoning: a heartbeat once expired
    p_replay: float = 0.1
    p_concurrent_replay: float = 0.05
    p_lost: float = 0.0
    p_recheckout: float = 0.03  # check out again (new key) while holding
    p_double_checkin: float = 0.05
    p_heartbeat_after_checkin: float = 0.05
    p_foreign_token: float = 0.02  # heartbeat another license's lease
    p_shared_key: float = 0.01  # a checkout repeating another license's key and body
    p_status: float = 0.0  # per license: one suspend … reinstate episode
    clock_offset: float = 0.0  # server - client clock (all workers on one machine)
    distinct_clocks: bool = False  # each worker its own clock, off by up to ±clock_offset
    worker_per_device: bool = True


def random_choices(rng: random.Random) -> Choices:
    """One honest server, its variant picks drawn at random."""
    return Choices(
        same_device=rng.choice(("reuse", "new_seat", "refuse")),
        revive_expired=rng.random() < 0.5,
        ended_status=rng.choice((404, 409, 410, 422)),
        capacity_status=rng.choice((403, 409)),
        capacity_code=rng.choice(("FLOATING_LIMIT_EXCEEDED", "ACTIVATION_LIMIT_EXCEEDED", "SEATS_EXHAUSTED")),
        conflict_status=rng.choice((400, 409, 422)),
        checkin_of_ended_ok=rng.random() < 0.5,
        suspension_ends_leases=rng.random() < 0.5,
        store_errors=rng.random() < 0.5,
        replay_current_expiry=rng.random() < 0.5,
        reaper_delay=rng.choice((0.0, 0.0, 0.5, 0.9)),
        early_expiry=rng.choice((0.0, 0.0, 0.04)),
    )


@dataclass
class _Device:
    license: str
    name: str
    worker: str
    offset: float  # server - client clock
    token: str | None = None
    expires: float = 0.0
    left: int = 0  # heartbeats before checkin


@dataclass(slots=True)
class _Req:
    """One request in flight. The instant it takes effect on the server is its
    key in the event heap, not a field: one number, one home."""

    kind: str
    dev: _Device
    sent: float
    key: str | None = None
    body: str | None = None
    token: str | None = None
    lost: bool = False  # the answer never arrives
    dropped: bool = False  # ... and the server never saw it
    follow: bool = True  # the device acts on the answer


class _Sim:
    def __init__(self, w: Workload, seed: int, choices: Choices | None, faults: frozenset[str]) -> None:
        self.w = w
        self.rng = random.Random(seed)
        self.server = Server(choices or Choices(), faults)
        self.random_picks = choices is None
        self.heap: list[tuple[float, int, _Req]] = []
        self.ops: list[Op] = []
        self.seq = 0
        self.tokens: list[str] = []
        self.recent: list[tuple[str, str, str]] = []  # (license, key, body) of recent checkouts
        self.end = w.duration

    # ------------------------------------------------------------- requests
    def send(self, kind: str, dev: _Device, sent: float, follow: bool = True, **kw: str | None) -> None:
        if sent > self.end:
            return
        lo, hi = self.w.latency
        self.seq += 1
        lost = self.rng.random() < self.w.p_lost
        dropped = lost and self.rng.random() < 0.5
        at = sent + self.rng.uniform(lo, hi)
        req = _Req(kind, dev, sent, lost=lost, dropped=dropped, follow=follow, **kw)
        heapq.heappush(self.heap, (at, self.seq, req))

    def checkout(self, dev: _Device, sent: float, key: str | None = None) -> None:
        body = dev.name
        if key is None:
            others = [r for r in self.recent if r[0] != dev.license]
            if others and self.rng.random() < self.w.p_shared_key:
                _lic, key, body = self.rng.choice(others)
            else:
                key = self.key()
                self.recent = [*self.recent[-20:], (dev.license, key, body)]
        self.send("checkout", dev, sent, key=key, body=body)
        if self.rng.random() < self.w.p_concurrent_replay:
            self.send("checkout", dev, sent + self.rng.uniform(0.0, 0.02), follow=False, key=key, body=body)

    def offset(self) -> float:
        w = self.w
        return self.rng.uniform(-w.clock_offset, w.clock_offset) if w.distinct_clocks else w.clock_offset

    def key(self) -> str:
        self.seq += 1
        return f"k{self.seq}"

    def run(self) -> list[Op]:
        w, rng = self.w, self.rng
        for n in range(w.licenses):
            lic = f"L{n}"
            if self.random_picks:
                self.server.per_license[lic] = random_choices(rng)
            seats = rng.randint(*w.seats)
            mgr = _Device(lic, "mgr", f"mgr{n}", self.offset())
            self.server.create(lic, seats, w.timeout)
            self.record(_Req("create_license", mgr, -0.02), -0.01, -0.015, Answer(201), seats=seats)
            if rng.random() < w.p_status:
                t = rng.uniform(0.2, 0.7) * w.duration
                self.send("suspend", mgr, t)
                self.send("reinstate", mgr, t + rng.uniform(0.5, 0.3 * w.duration))
            for d in range(w.devices):
                worker = f"w{n}.{d}" if w.worker_per_device else f"w{n}"
                dev = _Device(lic, f"{lic}-d{d}", worker, self.offset())
                self.checkout(dev, rng.uniform(0, 1.0))
        heap = self.heap
        while heap:
            at, _seq, req = heapq.heappop(heap)
            if req.dropped:
                self.answer_lost(req)
                continue
            self.process(req, at)
        return self.ops

    # ------------------------------------------------------------ processing
    def process(self, req: _Req, now: float) -> None:
        srv, dev = self.server, req.dev
        if req.kind == "checkout":
            a = srv.checkout(dev.license, dev.name, req.key or "", req.body, now)
        elif req.kind == "heartbeat":
            a = srv.heartbeat(dev.license, req.token or "", now)
        elif req.kind == "checkin":
            a = srv.checkin(dev.license, req.token or "", req.key or "", req.body, now)
        else:
            a = srv.set_status(dev.license, req.kind, now)
        if req.kind == "checkout" and a.ok and a.lease and a.lease not in self.tokens[-50:]:
            self.tokens.append(a.lease)
        if req.lost:
            self.answer_lost(req)
            return
        lo, hi = self.w.latency
        received = now + self.rng.uniform(lo, hi)
        self.record(req, received, now, a)
        if req.follow:
            self.next(req, a, received)

    def answer_lost(self, req: _Req) -> None:
        received = req.sent + self.w.client_timeout
        self.record(req, received, None, None)
        if req.follow and req.kind in ("checkout", "heartbeat", "checkin"):
            # Retry with the same key (or heartbeat again) once the client gives up.
            if req.kind == "checkout":
                self.checkout(req.dev, received + 0.05, req.key)
            else:
                self.send(req.kind, req.dev, received + 0.05, key=req.key, body=req.body, token=req.token)

    def record(
        self, req: _Req, received: float, at: float | None, a: Answer | None, *, seats: int | None = None
    ) -> None:
        """The op `req` makes, answered by `a` at server time `at` (None, None: no answer)."""
        kind, dev = req.kind, req.dev
        off = dev.offset
        ok = a is not None and a.ok
        self.ops.append(
            Op(
                kind=kind,
                license=dev.license,
                sent_at=T0 + req.sent - off,
                received_at=T0 + received - off,
                status=None if a is None else a.status,
                lease=a.lease if ok and a is not None and kind == "checkout" else req.token,
                expires_at=None if a is None or a.expires is None or kind == "checkin" else _ms(T0 + a.expires),
                server_time=None if at is None else _ms(T0 + at),
                idempotency_key=req.key,
                body_digest=req.body,
                error_code=None if a is None else a.code,
                worker=dev.worker,
                device=dev.name if kind == "checkout" else None,
                device_id=a.device_id if ok and a is not None else None,
                request_id=f"req-{len(self.ops)}",
                answer_digest=f"{a.lease}|{a.expires}" if ok and a is not None else None,
                seats=seats,
                timeout=self.w.timeout if kind == "create_license" else None,
            )
        )

    # --------------------------------------------------------- client habits
    def next(self, req: _Req, a: Answer, t: float) -> None:
        w, rng, dev = self.w, self.rng, req.dev
        think = rng.uniform(*w.think)
        if req.kind == "checkout":
            if rng.random() < w.p_replay:
                self.send("checkout", dev, t + rng.uniform(0.0, 0.3), follow=False, key=req.key, body=req.body)
            if a.ok and a.lease:
                dev.token, dev.expires, dev.left = a.lease, a.expires or t, rng.randint(*w.heartbeats)
                if rng.random() < w.p_recheckout:
                    self.send("checkout", dev, t + think, follow=False, key=self.key(), body=dev.name)
                self.schedule_heartbeat(dev, t)
            else:
                self.checkout(dev, t + rng.uniform(*w.backoff))
        elif req.kind == "heartbeat":
            if a.ok:
                dev.expires = a.expires or t
                self.schedule_heartbeat(dev, t)
            else:
                dev.token = None
                self.checkout(dev, t + think)
        elif req.kind == "checkin":
            if rng.random() < w.p_double_checkin:
                self.send("checkin", dev, t + 0.01, follow=False, key=self.key(), body=req.body, token=req.token)
            if rng.random() < w.p_heartbeat_after_checkin:
                self.send("heartbeat", dev, t + 0.01, follow=False, token=req.token)
            dev.token = None
            self.checkout(dev, t + think)

    def schedule_heartbeat(self, dev: _Device, t: float) -> None:
        w, rng = self.w, self.rng
        token = dev.token
        if token is None:
            return
        if rng.random() < w.p_foreign_token and self.tokens:
            self.send("heartbeat", dev, t + 0.01, follow=False, token=rng.choice(self.tokens[-50:]))
        if dev.left <= 0:
            key = self.key()
            self.send("checkin", dev, t + rng.uniform(*w.think), key=key, body=f"ci-{token}", token=token)
            return
        dev.left -= 1
        if rng.random() < w.p_abandon:
            dev.left = 0
            if rng.random() < w.p_revive:
                self.send("heartbeat", dev, dev.expires + rng.uniform(0.1, 3.0), token=token)
            else:
                self.checkout(dev, dev.expires + rng.uniform(0.1, 3.0))
            return
        frac = rng.uniform(*w.heartbeat_at)
        self.send("heartbeat", dev, t + frac * max(0.0, dev.expires - t), token=token)


def _ms(t: float) -> float:
    return math.floor(t * 1000) / 1000


def simulate(
    workload: Workload | None = None,
    seed: int = 0,
    *,
    choices: Choices | None = None,
    faults: frozenset[str] = frozenset(),
    sort: bool = True,
) -> History:
    """A legal history (with `faults`: one with those bugs), reproducible by seed.

    `choices` None draws an honest variant per license at random."""
    ops = _Sim(workload or Workload(), seed, choices, faults).run()
    if sort:
        ops.sort(key=lambda o: (o.sent_at, o.received_at))
    return History(ops)
