"""capacity: N seats give N leases, never more, whatever the interleaving."""

from __future__ import annotations

import secrets

import pytest

from leasecheck.conformance.accepted import DENIED
from leasecheck.conformance.needs import License, Param
from leasecheck.core.client import LeaseClient, hardware_binding
from leasecheck.core.history import History

from ._model import judge
from ._support import HOLD_SECONDS, fill, hold_minutes, race, record


@pytest.mark.requirement("CAP-01", "CAP-02", "CAP-03")
@pytest.mark.parametrize("seats", [1, 3])
@pytest.mark.licenses(License(seats=Param("seats"), lasting=HOLD_SECONDS))
def test_n_seats_give_n_leases_and_refuse_the_next(target, lic, expect, seats):
    f = lic(seats=seats, timeout_minutes=hold_minutes(target))
    c = target.client(f)
    # Refusals a client handles differently, sent while the pool has room (CAP-03).
    others = [
        c.checkout(hardware_binding(colour="blue")),
        LeaseClient(c.http, "lk_leasecheck_unknown_" + secrets.token_hex(8)).checkout(hardware_binding()),
    ]
    outs = fill(c, seats)
    for ex in outs:
        expect.status("CAP-01", ex, [200], f"checkout {outs.index(ex) + 1} of {seats} on a {seats}-seat license")
    expect("CAP-01", len({o.lease_token for o in outs}) == seats, "fewer distinct leases than seats", *outs)
    over = c.checkout(hardware_binding())
    expect.status("CAP-02", over, DENIED, f"checkout on a full {seats}-seat pool")
    # The code strings are silent in the facts; what a client needs is to branch on error.code.
    code = over.error_code
    same = [o for o in others if not o.ok and o.error_code is not None and o.error_code == code]
    expect(
        "CAP-03",
        code is not None and not same,
        f"the over-capacity refusal's error.code {code!r} is also the code of "
        + ", ".join(o.describe() for o in same)
        + ": a client cannot tell a full pool from that by error.code",
        over,
        *same,
    )


@pytest.mark.requirement("CAP-04")
@pytest.mark.parametrize("seats", [1, 5])
@pytest.mark.licenses(License(seats=Param("seats"), minutes=30))
def test_racing_checkouts_never_over_allocate(target, lic, expect, seats):
    """Many simultaneous checkouts for distinct fingerprints at few seats: the
    model checker judges whether more than N leases were certainly held (and
    shows the witness if so)."""
    f = lic(seats=seats, timeout_minutes=30)
    n = max(target.settings.concurrency, 4 * seats)
    history = History()
    for round_ in range(3):
        outs = race(target, [lambda c: c.checkout(hardware_binding())] * n, f)
        record(history, f, outs)
        granted = [o for o in outs if o.ok]
        judge(expect, target, history, f, seats, *granted[: seats + 2])
        expect(
            "CAP-04",
            len(granted) <= seats,
            f"round {round_ + 1}: {len(granted)} of {n} simultaneous checkouts won a {seats}-seat pool",
            *granted[: seats + 2],
        )
        # Give the seats back for the next round, recorded, so the checker sees the ends.
        c = target.client(f)
        record(history, f, [c.checkin(o.lease_token) for o in granted], [o.lease_token for o in granted])


@pytest.mark.requirement("CAP-05")
@pytest.mark.licenses(License(seats=0))
def test_zero_seats_grant_nothing(target, lic, expect):
    f = lic(seats=0)
    ex = target.client(f).checkout(hardware_binding())
    expect.status("CAP-05", ex, [403, 409, 422], "checkout on a 0-seat policy")


@pytest.mark.requirement("CAP-06")
@pytest.mark.licenses(License(seats=2, minutes=5))
def test_same_fingerprint_again(target, lic, expect):
    """Either the held lease comes back (no extra seat) or a new one counts
    against the limit; never the old token while a second seat is taken."""
    f = lic(seats=2, timeout_minutes=5)
    c = target.client(f)
    body = hardware_binding()
    first = c.checkout(body)
    expect.status("CAP-06", first, [200], "first checkout")
    again = c.checkout(body)  # a new Idempotency-Key: a new request, same device
    expect.status("CAP-06", again, [200, 403, 409, 422], "second checkout by the same fingerprint")
    other = c.checkout(hardware_binding())
    if again.ok and again.lease_token == first.lease_token:
        expect.note("CAP-06", "same fingerprint: the held lease was returned")
        expect(
            "CAP-06",
            other.status == 200,
            "the held lease was returned, yet a second seat was taken: a new fingerprint is refused on a 2-seat pool",
            first,
            again,
            other,
        )
    elif again.ok:
        expect.note("CAP-06", "same fingerprint: a second lease took a second seat")
        expect(
            "CAP-06",
            other.status in DENIED,
            f"the same fingerprint took a second seat, yet a third lease was granted on a 2-seat pool ({other.describe()})",
            first,
            again,
            other,
        )
    else:
        expect.note("CAP-06", f"same fingerprint: refused with {again.status}")
