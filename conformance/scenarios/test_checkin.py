"""checkin: a checkin frees exactly the seat of its lease, once.

Seats are never listed by the API, so what a checkin freed is proven by
probing: on a full pool exactly one new fingerprint may get in afterwards.
Leases here last long enough (at least 30 s) that none expires mid-scenario.
"""

from __future__ import annotations

import secrets

import pytest

from leasecheck.conformance.accepted import DEAD_LEASE, DENIED, ENDED_LEASE_WRITE
from leasecheck.conformance.needs import License
from leasecheck.core.client import hardware_binding
from leasecheck.core.history import History

from ._model import judge
from ._support import HOLD_SECONDS, fill, hold_minutes, race, record

RACE_ROUNDS, RACE_SEATS, RACE_CHECKOUTS = 3, 3, 12


def _filled(target, lic, expect, seats: int):
    f = lic(seats=seats, timeout_minutes=hold_minutes(target))
    c = target.client(f)
    outs = fill(c, seats)
    for i, ex in enumerate(outs):
        expect.status("LIFE-01", ex, [200], f"checkout {i + 1} of {seats} on a {seats}-seat license")
    over = c.checkout(hardware_binding())
    expect.status("CAP-02", over, DENIED, f"checkout on a full {seats}-seat pool")
    return f, c, outs, over


@pytest.mark.requirement("CHK-01", "LIFE-01", "LIFE-02", "LIFE-03", "CAP-02")
@pytest.mark.licenses(License(seats=2, lasting=HOLD_SECONDS))
def test_checkin_frees_exactly_one_seat(target, lic, expect):
    """2 seats, both held: one checkin, then exactly one new fingerprint gets in, the
    next is refused, and the other lease is untouched."""
    _f, c, (a, b), _over = _filled(target, lic, expect, 2)
    ci = c.checkin(a.lease_token)
    expect.status("LIFE-03", ci, [200], "checkin of a live lease")
    d = c.checkout(hardware_binding())
    expect.status("CHK-01", d, [200], "checkout after one lease of a full pool was checked in")
    e = c.checkout(hardware_binding())
    expect(
        "CHK-01",
        not e.ok,
        f"a checkin freed more than one seat: the next checkout answered {e.describe()}",
        a,
        b,
        ci,
        d,
        e,
    )
    hb = c.heartbeat(b.lease_token)
    expect.status("LIFE-02", hb, [200], "heartbeat of the lease that was not checked in")


@pytest.mark.requirement("CHK-02", "CHK-01", "LIFE-01", "LIFE-03", "CAP-02")
@pytest.mark.licenses(License(seats=2, lasting=HOLD_SECONDS))
def test_second_checkin_frees_nothing(target, lic, expect):
    """2 seats, both held: A is checked in, then again with a new key (200 no-op,
    404, 409 or 422). One new fingerprint takes A's seat; the next is refused and B
    still holds: the second checkin freed nothing."""
    _f, c, (a, b), _over = _filled(target, lic, expect, 2)
    first = c.checkin(a.lease_token)
    expect.status("LIFE-03", first, [200], "checkin of a live lease")
    again = c.checkin(a.lease_token)  # a new Idempotency-Key: a new request
    expect.status("CHK-02", again, ENDED_LEASE_WRITE, "second checkin of the same lease with a new Idempotency-Key")
    expect.note("CHK-02", f"second checkin answered {again.status}")
    d = c.checkout(hardware_binding())
    expect.status("CHK-01", d, [200], "checkout into the seat the first checkin freed")
    e = c.checkout(hardware_binding())
    expect(
        "CHK-02",
        not e.ok,
        f"the second checkin freed another seat: a third lease on a 2-seat pool ({e.describe()})",
        a,
        b,
        first,
        again,
        d,
        e,
    )
    hb = c.heartbeat(b.lease_token)
    expect("CHK-02", hb.status == 200, f"the second checkin of A ended lease B ({hb.describe()})", again, hb)


@pytest.mark.requirement("CHK-03", "LIFE-01")
@pytest.mark.licenses(License(seats=1, lasting=HOLD_SECONDS))
def test_unknown_lease_tokens_are_refused(target, lic, expect):
    """Tokens the server never issued, including a near miss of a real one, are
    refused on heartbeat and checkin; the real lease is untouched."""
    f = lic(seats=1, timeout_minutes=hold_minutes(target))
    c = target.client(f)
    real = c.checkout(hardware_binding())
    expect.status("LIFE-01", real, [200], "checkout on an empty 1-seat pool")
    tok = real.lease_token
    near = tok[:-1] + ("A" if tok[-1] != "A" else "B")
    for unknown in ("llt_" + secrets.token_urlsafe(24), secrets.token_hex(16), near):
        hb = c.heartbeat(unknown)
        expect.status("CHK-03", hb, DEAD_LEASE, "heartbeat of a lease_token the server never issued")
        ci = c.checkin(unknown)
        expect.status("CHK-03", ci, DEAD_LEASE, "checkin of a lease_token the server never issued")
    hb = c.heartbeat(tok)
    expect(
        "CHK-03",
        hb.status == 200,
        f"after refusing never-issued tokens (one differing from it in one character) the real lease is gone ({hb.describe()})",
        hb,
    )
    c.checkin(tok)


@pytest.mark.requirement("CAP-04", "LIFE-01", "LIFE-03")
@pytest.mark.licenses(License(seats=RACE_SEATS, lasting=HOLD_SECONDS))
def test_checkin_racing_heartbeats_and_checkouts(target, lic, expect):
    """3 seats, all held. Each round races the checkin of one lease against its own
    heartbeats, the other leases' heartbeats and 12 new fingerprints, then heartbeats
    the checked-in lease once more; the model checker judges the whole history (more
    than 3 leases certainly held, a checked-in lease kept alive, ...)."""
    f = lic(seats=RACE_SEATS, timeout_minutes=hold_minutes(target))
    c = target.client(f)
    history = History()
    outs = fill(c, RACE_SEATS)
    record(history, f, outs)
    for i, ex in enumerate(outs):
        expect.status("LIFE-01", ex, [200], f"checkout {i + 1} of {RACE_SEATS} on a {RACE_SEATS}-seat license")
    held = [o.lease_token for o in outs]
    for round_ in range(RACE_ROUNDS):
        victim, others = held[0], held[1:]
        calls = (
            [lambda cl, t=victim: cl.checkin(t)]
            + [lambda cl, t=victim: cl.heartbeat(t)] * 2
            + [lambda cl, t=t: cl.heartbeat(t) for t in others]
            + [lambda cl: cl.checkout(hardware_binding())] * RACE_CHECKOUTS
        )
        tokens = [victim] * 3 + others + [None] * RACE_CHECKOUTS
        answers = race(target, calls, f, width=len(calls))
        record(history, f, answers, tokens)
        granted = [a for a in answers[-RACE_CHECKOUTS:] if a.ok]
        # Sent after the checkin was answered: the victim must stay dead (a revival
        # would hold a seat next to the new leases, which the checker would see).
        late = c.heartbeat(victim)
        record(history, f, [late], [victim])
        judge(expect, target, history, f, RACE_SEATS, answers[0], *granted[:3])
        if answers[0].ok:
            expect.status(
                "LIFE-03", late, DEAD_LEASE, f"round {round_ + 1}: heartbeat after a racing checkin was answered"
            )
        expect(
            "CAP-04",
            len(granted) <= RACE_SEATS - len(others),
            f"round {round_ + 1}: {len(granted)} new checkouts won while {len(others)} of {RACE_SEATS} seats "
            f"stayed held",
            answers[0],
            *granted[:3],
        )
        held = others + [a.lease_token for a in granted]
    for t in held:
        record(history, f, [c.checkin(t)], [t])
