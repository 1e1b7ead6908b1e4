"""Churn: seat use against Little's law, L = lambda * W.

Over the settled part of the run (after the first sessions could have
reached steady state), the time-average of seats certainly held (measured
L) is set against lambda * W with W the configured session's seat time
(hold, plus the rest of the lease for a client that vanished): once with
the offered arrival rate, once with the rate of sessions actually granted.
The second isolates the server: if it holds seats longer than it should
(slow reclaim of vanished clients) measured L drifts above it. Short runs
are noisy; the deviation is reported, not judged.
"""

from __future__ import annotations

from typing import Any

from leasecheck.core.history import History
from leasecheck.load.analysis.occupancy import Occupancy


def expected_seats(p: dict[str, Any], minute: float) -> float:
    """Little's law, L = λW, from the configured knobs (λ: sessions/s)."""
    lease = int(p["timeout_minutes"]) * minute
    hold = float(p["hold_leases"]) * lease
    vanish = float(p["vanish_share"])
    # A vanishing client holds until its last acknowledged heartbeat's lease
    # runs out: on average half a heartbeat interval short of a full lease.
    tail = lease - float(p["heartbeat_fraction"]) * lease / 2
    return float(p["rate"]) * ((1 - vanish) * hold + vanish * (hold + tail))


def analyse_churn(
    history: History, occ: Occupancy, params: dict[str, Any], minute_seconds: float, epoch: float, end: float
) -> dict[str, Any]:
    lease = int(params["timeout_minutes"]) * minute_seconds
    rate = float(params["rate"])
    seat_time = expected_seats(params, minute_seconds) / rate if rate else 0.0
    start = epoch + min(3 * float(params["hold_leases"]) * lease + lease, (end - epoch) / 2)
    seconds = max(end - start, 1e-9)
    granted = occ.grants(start, end)
    arrivals = sum(
        1 for op in history if op.kind == "checkout" and op.license == occ.license and start <= op.sent_at < end
    )
    admitted = granted / seconds
    measured = occ.mean(start, end)
    at_measured = admitted * seat_time
    return {
        "window": [start, end],
        "configured_seat_time_s": round(seat_time, 3),
        "offered_sessions_per_s": rate,
        "measured_arrivals_per_s": round(arrivals / seconds, 3),
        "admitted_sessions_per_s": round(admitted, 3),
        "predicted_seats_at_offered_rate": round(rate * seat_time, 2),
        "predicted_seats_at_admitted_rate": round(at_measured, 2),
        "measured_mean_seats": round(measured, 2),
        "capacity": occ.capacity,
        "deviation": round(measured / at_measured - 1, 4) if at_measured else None,
    }
