"""timing: what lease_expires_at promises and how heartbeats move it.

The late-heartbeat scenario waits most of a lease window; it runs as a
timeline (see conftest.py), alongside the expiry scenarios' waits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from leasecheck.conformance.needs import License
from leasecheck.core.client import Exchange, hardware_binding
from leasecheck.core.timeutil import is_rfc3339, parse_rfc3339, wait_until

from ._support import expires_local

#: What this module's timeline scripts wait for, as progress on a terminal says.
WAITING_FOR = "the late-heartbeat instant"

#: TIME-01's tolerance for rounding, from the catalogue's `accepted`.
ROUNDING = 1.0
#: A server may print whole seconds: two expiries can only be told apart when
#: their answers are at least this far apart on the server's clock (TIME-03).
RESOLUTION = 1.0
#: TIME-04: the heartbeat is sent at this fraction of the way to lease_expires_at,
#: and counts when the server certainly received it inside [LOW, HIGH].
LATE, LOW, HIGH = 0.85, 0.80, 0.95
ATTEMPTS = 3
#: The 80-95 % window must leave this much room for one round trip, beyond the
#: clock bound on either side (a server printing whole seconds needs longer leases).
WINDOW_SECONDS = 0.3
CLOCK_LIMIT = 5.0
#: What the late-heartbeat lease is declared to last: the window's room with 0.1 s of
#: clock bound on either side (a looser clock asks for more at run time).
LATE_LEASE_SECONDS = (WINDOW_SECONDS + 2 * 0.1) / (HIGH - LOW)


def _stamp(ex: Exchange) -> float:
    return parse_rfc3339(ex.json["meta"]["timestamp"])


def _expiry(ex: Exchange) -> float:
    return parse_rfc3339(ex.data["lease_expires_at"])


def _judge_window(expect: Any, target: Any, timeout_s: float, ex: Exchange) -> None:
    """TIME-01 on one 200 checkout/heartbeat answer."""
    ts, exp = _stamp(ex), _expiry(ex)
    expect(
        "TIME-01",
        ts - ROUNDING < exp <= ts + timeout_s + ROUNDING,
        f"lease_expires_at is {exp - ts:+.3f} s from meta.timestamp; the policy allows "
        f"(0, {timeout_s:g}] s (± {ROUNDING:g} s for rounding)",
        ex,
    )


def _judge_rfc3339(expect: Any, ex: Exchange) -> None:
    values = {"meta.timestamp": ex.json.get("meta", {}).get("timestamp")}
    values.update(
        {
            f"data.{k}": ex.data.get(k)
            for k in ("issued_at", "lease_expires_at", "expires_at")
            if ex.data.get(k) is not None
        }
    )
    bad = {k: v for k, v in values.items() if not is_rfc3339(v)}
    expect("TIME-05", not bad, f"not RFC 3339 date-times with an offset: {bad}", ex)


def _judge_never_shorter(expect: Any, before: Exchange, after: Exchange) -> None:
    expect(
        "TIME-02",
        _expiry(after) >= _expiry(before),
        f"a heartbeat moved lease_expires_at back by {_expiry(before) - _expiry(after):.3f} s "
        f"({before.data['lease_expires_at']} -> {after.data['lease_expires_at']})",
        before,
        after,
    )


def _judge_extends(expect: Any, before: Exchange, after: Exchange) -> bool:
    """TIME-03, judged only when the answers are far enough apart to be told apart."""
    gap = _stamp(after) - _stamp(before)
    if gap < RESOLUTION:
        return False
    expect(
        "TIME-03",
        _expiry(after) > _expiry(before),
        f"a heartbeat {gap:.1f} s after the previous answer did not move lease_expires_at "
        f"({before.data['lease_expires_at']} -> {after.data['lease_expires_at']})",
        before,
        after,
    )
    return True


# ------------------------------------------------------------------ instant checks
@pytest.mark.requirement("TIME-01", "TIME-02", "TIME-05", "LIFE-01", "LIFE-02")
@pytest.mark.licenses(License(seats=1, minutes=1))
def test_expiry_window_and_heartbeats_never_shorten(target, lic, expect):
    """Every answer's expiry lies in (timestamp, timestamp + timeout]; heartbeats in
    quick succession never move it back."""
    f = lic(seats=1, timeout_minutes=1)
    timeout_s = target.lease_seconds(f)
    c = target.client(f)
    out = c.checkout(hardware_binding())
    expect.status("LIFE-01", out, [200], "checkout with a free seat")
    _judge_rfc3339(expect, out)
    _judge_window(expect, target, timeout_s, out)
    prev = out
    for i in range(3):
        hb = c.heartbeat(out.lease_token)
        if not hb.ok and hb.received_at + target.clock.bound() > expires_local(target, prev):
            break  # the lease may have expired meanwhile (very slow answers): nothing certain
        expect.status("LIFE-02", hb, [200], f"heartbeat {i + 1} of a live lease")
        _judge_rfc3339(expect, hb)
        _judge_window(expect, target, timeout_s, hb)
        _judge_never_shorter(expect, prev, hb)
        prev = hb
    c.checkin(out.lease_token)


@pytest.mark.serial("judged on the clock offset of every answer so far")
@pytest.mark.requirement("TIME-06")
def test_server_clock_is_within_five_seconds(target, expect):
    """Judged from the offset measured on every answer of the run (server - local),
    only when it is beyond the limit by more than the measurement's uncertainty."""
    probes = [target.system.health() for _ in range(3)]
    ex = next((p for p in probes if isinstance(p.json, dict) and isinstance(p.json.get("meta"), dict)), probes[-1])
    clock = target.clock
    if not clock.samples:
        pytest.skip("not_run: no answer carried meta.timestamp")
    skew = abs(clock.offset) - clock.bound()
    expect.note("TIME-06", f"server clock offset {clock.offset * 1000:+.0f} ms ± {clock.bound() * 1000:.0f} ms")
    expect(
        "TIME-06",
        skew <= CLOCK_LIMIT,
        f"meta.timestamp is {clock.offset:+.1f} s (± {clock.bound():.2f} s) from the client's clock",
        ex,
    )


# ------------------------------------------------------------------ late heartbeat
@dataclass
class Attempt:
    checkout: Exchange
    heartbeat: Exchange | None = None
    certain: bool = False  # received certainly inside [LOW, HIGH] of the way to expiry
    fraction: tuple[float, float] | None = None  # where it may have arrived, as fractions


@dataclass
class LateHeartbeat:
    timeout_s: float
    attempts: list[Attempt] = field(default_factory=list)
    recheck: Exchange | None = None  # a heartbeat after the first expiry, before the new one
    recheck_certain: bool = False


def _late_heartbeat(stage: Any) -> LateHeartbeat:
    """Check out, heartbeat at 85 % of the way to lease_expires_at; if the arrival
    time is not certainly inside 80-95 % (a slow answer, a clock jump), try again
    with a fresh lease, at most ATTEMPTS times. After a certain success, heartbeat
    once more after the first expiry: the extension must be real."""
    target = stage.target
    room = WINDOW_SECONDS + 2 * target.clock.bound()
    f = stage.license(seats=ATTEMPTS, timeout_minutes=stage.minutes(room / (HIGH - LOW)))
    c = stage.client(f)
    res = LateHeartbeat(timeout_s=target.lease_seconds(f))
    for _ in range(ATTEMPTS):
        out = c.checkout(hardware_binding())
        att = Attempt(out)
        res.attempts.append(att)
        if not out.ok:
            return res
        start = target.clock.to_local(_stamp(out))
        end = expires_local(target, out)
        span = end - start
        # At 85 %, or later if the clock bound would otherwise blur the 80 % edge.
        wait_until(start + max(span * LATE, span * LOW + target.clock.bound() + 0.01))
        hb = att.heartbeat = c.heartbeat(out.lease_token)
        b = target.clock.bound()
        att.fraction = ((hb.sent_at - b - start) / span, (hb.received_at + b - start) / span)
        att.certain = hb.status is not None and att.fraction[0] >= LOW and att.fraction[1] <= HIGH
        if att.certain:
            if hb.ok:
                wait_until(end + b + min(0.05 * span, 1.0))
                res.recheck = c.heartbeat(out.lease_token)
                res.recheck_certain = res.recheck.received_at + target.clock.bound() <= expires_local(target, hb)
            c.checkin(out.lease_token)
            return res
        c.checkin(out.lease_token)
    return res


@pytest.mark.timeline(script=_late_heartbeat)
@pytest.mark.requirement("TIME-01", "TIME-02", "TIME-03", "TIME-04", "LIFE-01", "LIFE-02")
@pytest.mark.licenses(License(seats=ATTEMPTS, lasting=LATE_LEASE_SECONDS))
def test_late_heartbeat_succeeds_and_extends(target, expect, timeline):
    """A heartbeat received at 80-95 % of the way to lease_expires_at succeeds,
    moves the expiry later, and the lease really lives until the new expiry."""
    res: LateHeartbeat = timeline
    for att in res.attempts:
        expect.status("LIFE-01", att.checkout, [200], "checkout with a free seat")
        _judge_window(expect, target, res.timeout_s, att.checkout)
    judged = [a for a in res.attempts if a.certain]
    if not judged:
        where = "; ".join(f"{a.fraction[0]:.0%}-{a.fraction[1]:.0%}" if a.fraction else "?" for a in res.attempts)
        pytest.skip(
            f"not_run: no heartbeat certainly arrived at {LOW:.0%}-{HIGH:.0%} of the lease "
            f"in {len(res.attempts)} attempts (arrival windows {where}); the timing was disturbed"
        )
    att = judged[0]
    hb = att.heartbeat
    assert hb is not None and att.fraction is not None
    expect.status(
        "TIME-04",
        hb,
        [200],
        f"heartbeat received at {att.fraction[0]:.0%}-{att.fraction[1]:.0%} of the way to lease_expires_at",
    )
    expect.note(
        "TIME-04",
        f"a heartbeat at {att.fraction[0]:.0%}-{att.fraction[1]:.0%} of the lease succeeded "
        f"(attempt {res.attempts.index(att) + 1})",
    )
    _judge_window(expect, target, res.timeout_s, hb)
    _judge_never_shorter(expect, att.checkout, hb)
    _judge_extends(expect, att.checkout, hb)
    re = res.recheck
    if re is None:
        return
    if not res.recheck_certain:
        expect.note("LIFE-02", "the heartbeat after the first expiry arrived too late to be judged")
        return
    expect.status(
        "LIFE-02",
        re,
        [200],
        "heartbeat after the checkout's lease_expires_at but before the one the late heartbeat answered",
    )
    _judge_window(expect, target, res.timeout_s, re)
    _judge_never_shorter(expect, hb, re)
    _judge_extends(expect, hb, re)
