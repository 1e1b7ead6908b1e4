"""expiry: abandoned seats come free at lease_expires_at, not before, and only once.

Every scenario here waits for a lease to expire. Each one's timed steps are a
script started with the session (see conftest.py), so all the leases age
together and the whole module takes about one lease window; the tests judge
what their script saw. A judgment that depends on *when* the server handled
a request is made only when that is certain from the client's send/receive
times and the measured clock bound; otherwise the observation is noted, not
judged.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from leasecheck.conformance.accepted import DEAD_LEASE, ENDED_LEASE_WRITE, REVIVAL_REFUSED
from leasecheck.conformance.needs import License
from leasecheck.core.client import Exchange, hardware_binding
from leasecheck.core.history import History
from leasecheck.core.timeutil import parse_rfc3339, wait_until

from ._model import judge
from ._support import expires_local, record, wait_past_expiry

#: What this module's timeline scripts wait for, as progress on a terminal says.
WAITING_FOR = "leases to expire"

#: Probes for EXP-02, as fractions of the way to lease_expires_at; a last probe
#: goes just before expiry minus the clock bound.
PROBES = (0.5, 0.75)
#: New fingerprints per round of the reaper race, and its rounds up to the expiry deadline.
REAPER_WIDTH, REAPER_ROUNDS = 8, 6


def expiry_minutes(stage: Any) -> int:
    """The shortest policy timeout that is still longer than the expiry tolerance
    (with 1-second minutes a 1-minute lease could not tell an expiry one window
    late from one on time) and than a few clock bounds (a server printing whole
    seconds blurs every instant by half a second). 60-second minutes: 1."""
    settings, bound = stage.target.settings, stage.target.clock.bound()
    return stage.minutes(max(expiry_seconds(settings), 8 * bound))


def expiry_seconds(settings: Any) -> float:
    """The clock-independent part of `expiry_minutes` (what the scenarios declare)."""
    return max(2.0, 2 * settings.expiry_tolerance)


def surely_while_live(target: Any, ex: Exchange, grant: Exchange) -> bool:
    """The server certainly handled `ex` before `grant`'s lease_expires_at."""
    return ex.received_at + target.clock.bound() <= expires_local(target, grant)


def checkout(c: Any, history: History, f: Any) -> Exchange:
    ex = c.checkout(hardware_binding())
    record(history, f, [ex])
    return ex


def heartbeat(c: Any, history: History, f: Any, token: str | None) -> Exchange:
    ex = c.heartbeat(token)
    record(history, f, [ex], [token])
    return ex


def judge_history(
    expect: Any, target: Any, rid: str, history: History, f: Any, seats: int, *evidence: Exchange | None
) -> None:
    """The model checker on the story's history; an over-grant breaks `rid`."""
    judge(expect, target, history, f, seats, *evidence, breaks={"over_grant": rid})


@dataclass
class Story:
    """What one script did: its license, named exchanges, and the history of all of them."""

    f: Any
    ex: dict[str, Exchange] = field(default_factory=dict)
    history: History = field(default_factory=History)
    facts: dict[str, Any] = field(default_factory=dict)


def _after_expiry(stage: Any, seats: int) -> tuple[Story, Any]:
    """A fresh license whose lease "a" is checked out and left to pass its
    lease_expires_at. Returns the story and its client (None if "a" was refused)."""
    f = stage.license(seats=seats, timeout_minutes=expiry_minutes(stage))
    c, s = stage.client(f), Story(f)
    a = s.ex["a"] = checkout(c, s.history, f)
    if not a.ok:
        return s, None
    wait_past_expiry(stage.target, a)
    return s, c


# ------------------------------------------------------------------ EXP-01
def _expiry_frees(stage: Any) -> Story:
    s, c = _after_expiry(stage, seats=1)
    if c is not None:
        s.ex["b"] = checkout(c, s.history, s.f)
    return s


@pytest.mark.timeline(script=_expiry_frees)
@pytest.mark.requirement("EXP-01", "LIFE-01")
@pytest.mark.licenses(License(seats=1, lasting=expiry_seconds))
def test_expiry_frees_the_seat(target, expect, timeline):
    """1 seat: A checks out and never heartbeats; once its lease_expires_at (plus
    the expiry tolerance) has passed, a new fingerprint gets the seat."""
    s: Story = timeline
    expect.status("LIFE-01", s.ex["a"], [200], "checkout on an empty 1-seat pool")
    expect.status(
        "EXP-01",
        s.ex["b"],
        [200],
        f"checkout after the only lease passed its lease_expires_at (+{target.settings.expiry_tolerance:g} s tolerance)",
    )


# ------------------------------------------------------------------ EXP-02
def _seat_held_until_expiry(stage: Any) -> Story:
    target = stage.target
    f = stage.license(seats=2, timeout_minutes=expiry_minutes(stage))
    c, s = stage.client(f), Story(f)
    a1 = s.ex["a1"] = checkout(c, s.history, f)
    a2 = s.ex["a2"] = checkout(c, s.history, f)
    if not (a1.ok and a2.ok):
        return s
    first = min((a1, a2), key=lambda e: expires_local(target, e))
    start = target.clock.to_local(parse_rfc3339(first.json["meta"]["timestamp"]))
    end = expires_local(target, first)
    instants = [start + (end - start) * p for p in PROBES]
    instants.append(end - target.clock.bound() - max(0.05 * (end - start), 0.05))
    probes = []
    for at in sorted(instants):
        wait_until(at)
        probes.append(checkout(c, s.history, f))
    s.facts["probes"] = probes
    s.facts["first"] = first
    return s


@pytest.mark.timeline(script=_seat_held_until_expiry)
@pytest.mark.requirement("EXP-02", "LIFE-01")
@pytest.mark.licenses(License(seats=2, lasting=expiry_seconds))
def test_seat_is_not_given_away_before_expiry(target, expect, timeline):
    """2 seats, both taken and never heartbeated: new fingerprints probing at 50 %,
    75 % and just before lease_expires_at are all refused."""
    s: Story = timeline
    for k in ("a1", "a2"):
        expect.status("LIFE-01", s.ex[k], [200], "checkout on a pool with a free seat")
    judged = 0
    for p in s.facts["probes"]:
        if not surely_while_live(target, p, s.facts["first"]):
            expect.note("EXP-02", "a probe arrived too close to lease_expires_at to be judged")
            continue
        judged += 1
        expect(
            "EXP-02",
            not p.ok,
            f"a new fingerprint was given a seat while both leases were live "
            f"({p.describe()}, {expires_local(target, s.facts['first']) - p.received_at:.2f} s before the first lease_expires_at)",
            s.ex["a1"],
            s.ex["a2"],
            p,
        )
    if not judged:
        end = expires_local(target, s.facts["first"])
        when = ", ".join(f"{p.received_at - end:+.2f}" for p in s.facts["probes"])
        pytest.skip(
            f"not_run: no probe certainly reached the server before lease_expires_at (answers received "
            f"at {when} s from it, clock bound ± {target.clock.bound():.2f} s)"
        )


# ------------------------------------------------------------------ EXP-03
def _no_revival_behind_full_pool(stage: Any) -> Story:
    s, c = _after_expiry(stage, seats=1)
    if c is None:
        return s
    f, a = s.f, s.ex["a"]
    b = s.ex["b"] = checkout(c, s.history, f)
    if not b.ok:
        return s
    s.ex["hb_a"] = heartbeat(c, s.history, f, a.lease_token)
    s.ex["hb_b"] = heartbeat(c, s.history, f, b.lease_token)
    s.ex["c"] = checkout(c, s.history, f)
    return s


@pytest.mark.timeline(script=_no_revival_behind_full_pool)
@pytest.mark.requirement("EXP-03", "EXP-01", "LIFE-01")
@pytest.mark.licenses(License(seats=1, lasting=expiry_seconds))
def test_no_revival_behind_a_full_pool(target, expect, timeline):
    """1 seat: A expires, B takes the seat; A's heartbeat is refused, B still holds
    (its heartbeat succeeds) and a third fingerprint is refused."""
    s: Story = timeline
    a = s.ex["a"]
    expect.status("LIFE-01", a, [200], "checkout on an empty 1-seat pool")
    b = s.ex["b"]  # A was granted, so the script went on to B
    expect.status("EXP-01", b, [200], "checkout after the only lease expired")
    hb_a, hb_b, c = s.ex["hb_a"], s.ex["hb_b"], s.ex["c"]
    expect.status("EXP-03", hb_a, REVIVAL_REFUSED, "heartbeat of an expired lease whose seat another lease holds")
    if surely_while_live(target, hb_b, b):
        expect.status("EXP-03", hb_b, [200], "heartbeat of the lease that took the expired lease's seat")
    holder = hb_b if hb_b.ok else b
    if surely_while_live(target, c, holder):
        expect(
            "EXP-03",
            not c.ok,
            f"a second lease on a 1-seat pool after the expired lease's heartbeat ({c.describe()})",
            a,
            b,
            hb_a,
            c,
        )
    judge_history(expect, target, "EXP-03", s.history, s.f, 1, a, b, hb_a, hb_b, c)


# ------------------------------------------------------------------ EXP-04
def _revival_while_free(stage: Any) -> Story:
    s, c = _after_expiry(stage, seats=1)
    if c is None:
        return s
    f, a = s.f, s.ex["a"]
    s.ex["hb_a"] = heartbeat(c, s.history, f, a.lease_token)
    s.ex["b"] = checkout(c, s.history, f)
    return s


@pytest.mark.timeline(script=_revival_while_free)
@pytest.mark.requirement("EXP-04", "EXP-03", "EXP-01", "LIFE-01")
@pytest.mark.licenses(License(seats=1, lasting=expiry_seconds))
def test_revival_while_the_seat_is_free(target, expect, timeline):
    """1 seat: A expires and nobody takes the seat; A's heartbeat may revive it or be
    refused. Revived, A counts against the limit (a new fingerprint is refused);
    refused, the seat is free (a new fingerprint gets it)."""
    s: Story = timeline
    a = s.ex["a"]
    expect.status("LIFE-01", a, [200], "checkout on an empty 1-seat pool")
    hb_a, b = s.ex["hb_a"], s.ex["b"]
    expect.status("EXP-04", hb_a, (200,) + DEAD_LEASE, "heartbeat of an expired lease while its seat is free")
    if hb_a.ok:
        expect.note("EXP-04", "an expired lease was revived by a heartbeat while its seat was free")
        if surely_while_live(target, b, hb_a):
            expect(
                "EXP-03",
                not b.ok,
                f"a revived lease did not count against the limit: a new fingerprint got the only seat ({b.describe()})",
                a,
                hb_a,
                b,
            )
        judge_history(expect, target, "EXP-03", s.history, s.f, 1, a, hb_a, b)
    elif hb_a.status in DEAD_LEASE:
        expect.note("EXP-04", f"an expired lease was not revived while its seat was free ({hb_a.status})")
        expect.status("EXP-01", b, [200], "checkout after the only lease expired and its heartbeat was refused")


# ------------------------------------------------------------------ EXP-05
def _checkin_of_expired(stage: Any) -> Story:
    s, c = _after_expiry(stage, seats=2)
    if c is None:
        return s
    f, a = s.f, s.ex["a"]
    b = s.ex["b"] = checkout(c, s.history, f)
    cc = s.ex["c"] = checkout(c, s.history, f)
    if not (b.ok and cc.ok):
        return s
    ci = s.ex["ci_a"] = c.checkin(a.lease_token)
    record(s.history, f, [ci], [a.lease_token])
    s.ex["d"] = checkout(c, s.history, f)
    s.ex["hb_b"] = heartbeat(c, s.history, f, b.lease_token)
    s.ex["hb_c"] = heartbeat(c, s.history, f, cc.lease_token)
    return s


@pytest.mark.timeline(script=_checkin_of_expired)
@pytest.mark.requirement("EXP-05", "EXP-01", "LIFE-01")
@pytest.mark.licenses(License(seats=2, lasting=expiry_seconds))
def test_checkin_of_an_expired_lease_frees_nothing_more(target, expect, timeline):
    """2 seats: A expires; B and C take both seats; checking A in is a no-op or
    refused, and frees nothing: a fourth fingerprint is refused and B and C still
    hold their leases."""
    s: Story = timeline
    a = s.ex["a"]
    expect.status("LIFE-01", a, [200], "checkout on an empty 2-seat pool")
    b, cc = s.ex["b"], s.ex["c"]
    expect.status("EXP-01", b, [200], "first checkout after the lease expired (2 seats free)")
    expect.status("EXP-01", cc, [200], "second checkout after the lease expired (2 seats free)")
    ci, d, hb_b, hb_c = s.ex["ci_a"], s.ex["d"], s.ex["hb_b"], s.ex["hb_c"]
    expect.status("EXP-05", ci, ENDED_LEASE_WRITE, "checkin of an expired lease")
    first = min((b, cc), key=lambda e: expires_local(target, e))
    if surely_while_live(target, d, first):
        expect(
            "EXP-05",
            not d.ok,
            f"checking in an expired lease freed a seat: a third lease on a 2-seat pool ({d.describe()})",
            a,
            b,
            cc,
            ci,
            d,
        )
    for name, hb, grant in (("B", hb_b, b), ("C", hb_c, cc)):
        if surely_while_live(target, hb, grant):
            expect.status("EXP-05", hb, [200], f"heartbeat of live lease {name} after an expired lease was checked in")
    judge_history(expect, target, "EXP-05", s.history, s.f, 2, a, b, cc, ci, d)


# ------------------------------------------------------------------ racing the reaper
class Racer:
    """`race` with its connections opened once: a round starts on time, not after
    opening a dozen new connections."""

    def __init__(self, target: Any, f: Any, width: int) -> None:
        self.clients = [target.client(f, target.new_http()) for _ in range(width)]
        for cl in self.clients:
            cl.http.request("GET", "/health")
        self.pool = ThreadPoolExecutor(max_workers=width)

    def run(self, calls: list[Any]) -> list[Exchange]:
        barrier = threading.Barrier(len(calls))

        def work(i: int) -> Exchange:
            barrier.wait()
            return calls[i](self.clients[i])

        return list(self.pool.map(work, range(len(calls))))

    def close(self) -> None:
        self.pool.shutdown()


def _reaper_race(stage: Any) -> Story:
    """2 seats: A is abandoned, B is kept alive by heartbeats. From just before A's
    lease_expires_at until it has certainly passed (plus tolerance), rounds of new
    checkouts race B's heartbeat, and a last round races A's heartbeat too; every
    exchange goes into the history."""
    target = stage.target
    f = stage.license(seats=2, timeout_minutes=expiry_minutes(stage))
    c, s = stage.client(f), Story(f)
    a = s.ex["a"] = checkout(c, s.history, f)
    b = s.ex["b"] = checkout(c, s.history, f)
    if not (a.ok and b.ok):
        return s
    racer = Racer(target, f, REAPER_WIDTH + 2)
    try:
        end = expires_local(target, a)
        span = end - target.clock.to_local(parse_rfc3339(a.json["meta"]["timestamp"]))
        wait_until(end - 0.5 * span)
        s.ex["hb_b"] = heartbeat(c, s.history, f, b.lease_token)  # B outlives the race
        first = end - 0.1 * span
        last = end + target.clock.bound() + target.settings.expiry_tolerance
        step = (last - first) / (REAPER_ROUNDS - 1)
        rounds: list[dict[str, Any]] = []
        new = lambda cl: cl.checkout(hardware_binding())  # noqa: E731
        for i in range(REAPER_ROUNDS + 1):
            final = i == REAPER_ROUNDS
            if not final:
                wait_until(first + step * i)
            calls = [new] * REAPER_WIDTH + [lambda cl: cl.heartbeat(b.lease_token)]
            tokens: list[str | None] = [None for _ in range(REAPER_WIDTH)]
            tokens.append(b.lease_token)
            if final:
                calls.append(lambda cl: cl.heartbeat(a.lease_token))
                tokens.append(a.lease_token)
            outs = racer.run(calls)
            record(s.history, f, outs, tokens)
            rounds.append({"outs": outs, "final": final, "deadline": last})
        s.facts["rounds"] = rounds
    finally:
        racer.close()
    return s


@pytest.mark.timeline(script=_reaper_race)
@pytest.mark.requirement("CAP-04", "EXP-01", "LIFE-01")
@pytest.mark.licenses(License(seats=2, lasting=expiry_seconds))
def test_racing_the_reaper(target, expect, timeline):
    """New checkouts racing a lease's expiry (and a live lease's heartbeats, and at
    last the expired lease's heartbeat) never make more than 2 leases certainly
    held at once; and once A has certainly expired, one of them gets its seat."""
    s: Story = timeline
    expect.status("LIFE-01", s.ex["a"], [200], "checkout on an empty 2-seat pool")
    expect.status("LIFE-01", s.ex["b"], [200], "checkout on a pool with a free seat")
    rounds = s.facts["rounds"]
    granted = [o for r in rounds for o in r["outs"][:REAPER_WIDTH] if o.ok]
    judge_history(expect, target, "CAP-04", s.history, s.f, 2, *granted[:3])
    expect(
        "CAP-04",
        all(sum(o.ok for o in r["outs"][:REAPER_WIDTH]) <= 2 for r in rounds),
        "more new checkouts won one round than a 2-seat pool has seats",
        *granted[:4],
    )
    before_final = [r for r in rounds if not r["final"]]
    last = before_final[-1]
    won = [o for r in before_final for o in r["outs"][:REAPER_WIDTH] if o.ok]
    end = expires_local(target, s.ex["a"])
    when = ", ".join(f"{min(o.sent_at for o in r['outs']) - end:+.2f}" for r in rounds)
    expect.note(
        "CAP-04",
        f"reaper race: {len(won)} of {len(before_final) * REAPER_WIDTH} racing checkouts won "
        f"(rounds sent at {when} s from the abandoned lease's lease_expires_at)",
    )
    # The last of these rounds was sent after A's lease_expires_at + clock bound + tolerance.
    if min(o.sent_at for o in last["outs"]) >= last["deadline"]:
        expect(
            "EXP-01",
            won,
            "no new fingerprint got the seat of a lease past its lease_expires_at (plus tolerance) while racing for it",
            s.ex["a"],
            *last["outs"][:2],
        )
