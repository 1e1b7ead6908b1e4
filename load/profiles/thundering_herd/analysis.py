"""thundering-herd's part of the summary: the return burst, and how long until every client held again."""

from __future__ import annotations

from collections import Counter
from typing import Any

from leasecheck.load.analysis.shards import MergedRun
from leasecheck.load.analysis.window import latency_table

#: The mark a client records (locustfile.py) when it holds a seat again after the return.
RECOVERED = "recovered"


def pause_and_return(params: dict[str, Any], lease_seconds: float, epoch: float) -> tuple[float, float]:
    """When the herd stops heartbeating, and when it comes back (both on the shared clock)."""
    paused = epoch + float(params["steady_leases"]) * lease_seconds
    return paused, paused + float(params["pause_leases"]) * lease_seconds


def recovery(run: MergedRun, params: dict[str, Any], lease_seconds: float, epoch: float, users: int) -> dict[str, Any]:
    paused, back = pause_and_return(params, lease_seconds, epoch)
    recovered = sorted(m["t"] for m in run.marks if m["kind"] == RECOVERED)
    burst = {k: v for k, v in run.latency.items() if "(return)" in k}
    returns = run.logical_outcomes.get("heartbeat (return)", Counter())
    return {
        "paused_at": paused,
        "returned_at": back,
        "clients": users,
        "clients_recovered": len(recovered),
        "seconds_until_all_held": round(recovered[-1] - back, 3) if len(recovered) >= users and recovered else None,
        "seconds_until_half_held": round(recovered[len(recovered) // 2] - back, 3) if recovered else None,
        "return_heartbeats": dict(returns),
        "burst_latency_ms": latency_table(burst),
    }
