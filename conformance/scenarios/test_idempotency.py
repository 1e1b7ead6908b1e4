"""idempotency: Idempotency-Key on checkout and checkin.

A retried write must have one effect. Every scenario here proves seat effects
by probing the pool with new fingerprints on a small license, never by
trusting the status code of the request under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from leasecheck.conformance.accepted import ENDED_LEASE_WRITE, IN_FLIGHT_DUPLICATE, KEY_CONFLICT
from leasecheck.conformance.needs import License
from leasecheck.core.client import Exchange, LeaseClient, hardware_binding, new_key
from leasecheck.core.history import History
from leasecheck.core.signing import SignatureError

from ._model import judge
from ._support import race, record

STORED_MAY_DIFFER = ("lease_expires_at",)  # IDEM-11: may reflect the current state


def _verify(target, ex):
    """None when the envelope's signature verifies, else the reason (keys refreshed once)."""
    try:
        target.keyring.verify(ex.json)
        return None
    except SignatureError:
        target.refresh_keys()
    try:
        target.keyring.verify(ex.json)
        return None
    except SignatureError as exc:
        return str(exc)


@pytest.mark.requirement("IDEM-01")
@pytest.mark.licenses(License(seats=1))
def test_checkout_without_key_is_refused_and_takes_no_seat(target, lic, expect):
    """A keyless checkout cannot be retried safely, so it must be refused; and
    the refusal must not have taken the only seat of a 1-seat pool."""
    f = lic(seats=1)
    c = target.client(f)
    ex = c.checkout(hardware_binding(), idempotency_key=None)
    expect.status("IDEM-01", ex, [400, 422], "checkout without an Idempotency-Key")
    probe = c.checkout(hardware_binding())
    expect(
        "IDEM-01",
        probe.status == 200,
        f"after a refused keyless checkout a new fingerprint cannot check out on a 1-seat pool "
        f"({probe.describe()}): the refused request took the seat",
        ex,
        probe,
    )
    c.checkin(probe.lease_token)


@pytest.mark.requirement("IDEM-02")
@pytest.mark.licenses(License(seats=1, minutes=5))
def test_checkin_without_key_is_refused_and_frees_no_seat(target, lic, expect):
    """A keyless checkin must be refused and leave the lease holding its seat:
    the lease still heartbeats and the full 1-seat pool still refuses a newcomer."""
    f = lic(seats=1, timeout_minutes=5)
    c = target.client(f)
    out = c.checkout(hardware_binding())
    expect.status("IDEM-02", out, [200], "checkout to fill the 1-seat pool")
    ci = c.checkin(out.lease_token, idempotency_key=None)
    expect.status("IDEM-02", ci, [400, 422], "checkin without an Idempotency-Key")
    probe = c.checkout(hardware_binding())
    expect(
        "IDEM-02",
        not probe.ok,
        "after a refused keyless checkin a new fingerprint checked out on the full 1-seat pool: "
        "the refused checkin freed the seat",
        out,
        ci,
        probe,
    )
    hb = c.heartbeat(out.lease_token)
    expect(
        "IDEM-02",
        hb.status == 200,
        f"the lease no longer heartbeats after a refused keyless checkin ({hb.describe()})",
        out,
        ci,
        hb,
    )
    c.checkin(out.lease_token)


@pytest.mark.requirement("IDEM-03", "IDEM-04", "IDEM-11")
@pytest.mark.licenses(License(seats=2, minutes=5))
def test_replay_returns_the_same_signed_lease_and_takes_no_seat(target, lic, expect):
    """A client that lost the answer retries with the same key and body: it must
    get its lease back, signed, without a second seat being taken (2 seats: the
    replay leaves exactly one free)."""
    f = lic(seats=2, timeout_minutes=5)
    c = target.client(f)
    body, key = hardware_binding(), new_key()
    first = c.checkout(body, idempotency_key=key)
    expect.status("IDEM-03", first, [200], "first checkout")
    again = c.checkout(body, idempotency_key=key)
    expect.status("IDEM-03", again, [200], "checkout replayed with the same key and body")
    expect(
        "IDEM-03",
        again.lease_token == first.lease_token,
        "the replay answered a different lease_token than the first checkout",
        first,
        again,
    )
    if again.header("idempotent-replayed"):
        expect.note("IDEM-03", f"replay carried Idempotent-Replayed: {again.header('idempotent-replayed')}")

    why = _verify(target, again)
    expect("IDEM-04", why is None, f"the replayed checkout's signature does not verify: {why}", again)

    stored = {k: v for k, v in first.data.items() if k not in STORED_MAY_DIFFER}
    replayed = {k: v for k, v in again.data.items() if k not in STORED_MAY_DIFFER}
    changed = sorted(k for k in set(stored) | set(replayed) if stored.get(k) != replayed.get(k))
    expect("IDEM-11", not changed, f"the replay's data differs from the stored answer in {changed}", first, again)

    probe = c.checkout(hardware_binding())
    expect(
        "IDEM-03",
        probe.status == 200,
        f"after one checkout and its replay a 2-seat pool refuses a new fingerprint ({probe.describe()}): "
        "the replay took a second seat",
        first,
        again,
        probe,
    )
    for tok in {first.lease_token, again.lease_token, probe.lease_token} - {None}:
        c.checkin(tok)


@pytest.mark.requirement("IDEM-05", "IDEM-06")
@pytest.mark.licenses(License(seats=2, minutes=5))
def test_key_reused_with_another_body_is_refused(target, lic, expect):
    """A key reused with a different body is a client bug: refusing it (twice)
    is the only safe answer, and the refusals take no seat (2 seats: one stays
    free after the first lease)."""
    f = lic(seats=2, timeout_minutes=5)
    c = target.client(f)
    key = new_key()
    first = c.checkout(hardware_binding(), idempotency_key=key)
    expect.status("IDEM-05", first, [200], "first checkout")
    other = hardware_binding()
    clash = c.checkout(other, idempotency_key=key)
    expect.status("IDEM-05", clash, KEY_CONFLICT, "same Idempotency-Key with a different body")
    code = clash.error_code
    expect(
        "IDEM-06", code == "IDEMPOTENCY_CONFLICT", f"key-reuse error code is {code!r}, not IDEMPOTENCY_CONFLICT", clash
    )
    again = c.checkout(other, idempotency_key=key)
    expect.status("IDEM-05", again, KEY_CONFLICT, "the same conflicting request sent a second time")
    probe = c.checkout(hardware_binding())
    expect(
        "IDEM-05",
        probe.status == 200,
        f"after refused key reuse a 2-seat pool holding one lease refuses a new fingerprint "
        f"({probe.describe()}): a refused request took a seat",
        first,
        clash,
        again,
        probe,
    )
    for tok in (first.lease_token, probe.lease_token):
        if tok:
            c.checkin(tok)


@pytest.mark.requirement("IDEM-07")
@pytest.mark.licenses(License(seats=1, minutes=5, count=2))
def test_keys_are_scoped_to_their_license(target, lic, expect):
    """Two customers may pick the same key (and the same body): license B must
    get its own lease, never license A's answer."""
    a, b = lic(seats=1, timeout_minutes=5), lic(seats=1, timeout_minutes=5)
    ca, cb = target.client(a), target.client(b)
    body, key = hardware_binding(), new_key()
    first = ca.checkout(body, idempotency_key=key)
    expect.status("IDEM-07", first, [200], "checkout by license-A")
    theirs = cb.checkout(body, idempotency_key=key)
    expect.status(
        "IDEM-07", theirs, [200], "checkout by license-B with license-A's key and body (a new request for license-B)"
    )
    expect(
        "IDEM-07",
        theirs.lease_token != first.lease_token,
        "license-B received license-A's lease_token for the same Idempotency-Key",
        first,
        theirs,
    )
    expect(
        "IDEM-07",
        theirs.data.get("license_id") != first.data.get("license_id"),
        "license-B's answer names license-A's license_id",
        first,
        theirs,
    )
    ca.checkin(first.lease_token)
    cb.checkin(theirs.lease_token)


#: IDEM-08's storms: narrow ones leave within a few ms of each other (a tight
#: check-then-insert window shows), the widest one piles up in the server.
STORM_WIDTHS = (8, 16, None)  # None: the run's --concurrency


@pytest.mark.requirement("IDEM-08", "IDEM-03")
@pytest.mark.licenses(License(seats=2, minutes=5))
def test_concurrent_duplicates_have_one_effect(target, lic, expect):
    """Retry storms: many copies of one request (same key, same body) at once,
    three storms of different widths, each with its own key. At most one lease
    may result per storm, every 200 names it, and the 2-seat pool keeps a free
    seat."""
    f = lic(seats=2, timeout_minutes=5)
    c = target.client(f)
    history = History()
    for n, width in enumerate(STORM_WIDTHS, 1):
        width = width or target.settings.concurrency
        body, key = hardware_binding(), new_key()

        def duplicate(c: LeaseClient, body: dict[str, Any] = body, key: str = key) -> Exchange:
            return c.checkout(body, idempotency_key=key)

        outs = race(target, [duplicate] * width, f)
        record(history, f, outs)
        for ex in outs:
            expect.status(
                "IDEM-08", ex, IN_FLIGHT_DUPLICATE, f"storm {n}: a simultaneous duplicate checkout ({width} at once)"
            )
        tokens = {o.lease_token for o in outs if o.ok}
        expect(
            "IDEM-08",
            len(tokens) <= 1,
            f"storm {n}: {width} simultaneous duplicates got {len(tokens)} different lease_tokens",
            *[o for o in outs if o.ok][:4],
        )
        refused = sorted({o.status for o in outs if o.status is not None and not o.ok})
        if refused:
            expect.note("IDEM-08", f"some duplicates were refused with {refused} while the first was in flight")
        probe = c.checkout(hardware_binding())
        record(history, f, [probe])
        expect(
            "IDEM-08",
            probe.status == 200,
            f"storm {n}: after {width} simultaneous duplicates a 2-seat pool refuses a new fingerprint "
            f"({probe.describe()}): the duplicates took more than one seat",
            probe,
            *[o for o in outs if o.ok][:2],
        )
        if tokens:
            after = c.checkout(body, idempotency_key=key)
            record(history, f, [after])
            expect.status("IDEM-03", after, [200], f"storm {n}: the same key and body once more after the storm")
            expect(
                "IDEM-03",
                after.lease_token in tokens,
                f"storm {n}: a replay after the storm answered a different lease_token than the storm's",
                after,
            )
        for tok in tokens | {probe.lease_token} - {None}:
            record(history, f, [c.checkin(tok)], [tok])
        judge(expect, target, history, f, 2, *[o for o in outs if o.ok][:4], breaks={"replay_refused": "IDEM-03"})


@pytest.mark.requirement("IDEM-09")
@pytest.mark.licenses(License(seats=1, minutes=5))
def test_replay_after_checkin_takes_no_seat(target, lic, expect):
    """A late retry of a checkout whose lease already ended must not resurrect it
    or create a new one: the stored answer (a dead token) or an error, and the
    single seat stays free."""
    f = lic(seats=1, timeout_minutes=5)
    c = target.client(f)
    body, key = hardware_binding(), new_key()
    first = c.checkout(body, idempotency_key=key)
    expect.status("IDEM-09", first, [200], "checkout")
    ci = c.checkin(first.lease_token)
    expect.status("IDEM-09", ci, [200], "checkin of the lease")
    replay = c.checkout(body, idempotency_key=key)
    expect("IDEM-09", replay.status is not None, f"the replay got no answer ({replay.describe()})", replay)
    if replay.ok:
        expect.note("IDEM-09", f"replay after checkin answered {replay.status} (the stored answer)")
        expect(
            "IDEM-09",
            replay.lease_token == first.lease_token,
            "the replay after checkin answered 200 with a new lease_token: it created a lease",
            first,
            ci,
            replay,
        )
        hb = c.heartbeat(replay.lease_token)
        expect(
            "IDEM-09",
            not hb.ok,
            "the lease_token of the replay after checkin heartbeats: the replay revived the lease",
            ci,
            replay,
            hb,
        )
    else:
        expect.note("IDEM-09", f"replay after checkin refused with {replay.status}")
    probe = c.checkout(hardware_binding())
    expect(
        "IDEM-09",
        probe.status == 200,
        f"after checkin and a replay of the original checkout a 1-seat pool refuses a new fingerprint "
        f"({probe.describe()}): the replay took the seat",
        first,
        ci,
        replay,
        probe,
    )
    c.checkin(probe.lease_token)


@pytest.mark.requirement("IDEM-10")
@pytest.mark.licenses(License(seats=2, minutes=5))
def test_checkin_replay_frees_nothing_more(target, lic, expect):
    """Retrying a checkin must not free a second seat: on a full 2-seat pool,
    after one checkin sent twice with one key, exactly one newcomer fits."""
    f = lic(seats=2, timeout_minutes=5)
    c = target.client(f)
    a, b = c.checkout(hardware_binding()), c.checkout(hardware_binding())
    expect.status("IDEM-10", a, [200], "checkout 1 of 2")
    expect.status("IDEM-10", b, [200], "checkout 2 of 2")
    key = new_key()
    ci = c.checkin(a.lease_token, idempotency_key=key)
    expect.status("IDEM-10", ci, [200], "checkin")
    again = c.checkin(a.lease_token, idempotency_key=key)
    expect.status("IDEM-10", again, ENDED_LEASE_WRITE, "the checkin replayed with the same key")
    first_in = c.checkout(hardware_binding())
    expect(
        "IDEM-10",
        first_in.status == 200,
        f"after a checkin on a full 2-seat pool a new fingerprint is refused ({first_in.describe()})",
        ci,
        again,
        first_in,
    )
    second_in = c.checkout(hardware_binding())
    expect(
        "IDEM-10",
        not second_in.ok,
        "after one checkin (sent twice) on a full 2-seat pool two new fingerprints checked out: "
        "the replayed checkin freed a second seat",
        ci,
        again,
        first_in,
        second_in,
    )
    for tok in (b.lease_token, first_in.lease_token, second_in.lease_token):
        if tok:
            c.checkin(tok)
