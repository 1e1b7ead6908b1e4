"""What each profile adds to the summary beyond latency, throughput and invariants.

One small function per profile; the step profile's knee and the churn's
Little's law have modules of their own.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from leasecheck.core.history import History

from .analysis.occupancy import Occupancy
from .analysis.shards import MergedRun
from .analysis.window import Window, latency_table


def seat_race(history: History, licenses: list[dict[str, Any]], occ: dict[str, Occupancy]) -> dict[str, Any]:
    """Per license: contenders, seats, what they got, and the peak certainly held."""
    users: dict[str, set[str]] = {}
    outcome: dict[str, Counter[str]] = {}
    for op in history:
        if op.kind == "checkout":
            users.setdefault(op.license, set()).add(op.worker or "?")
            key = "granted" if op.ok else ("no answer" if op.status is None else str(op.status))
            outcome.setdefault(op.license, Counter())[key] += 1
    rows = []
    for lic in licenses:
        name, seats = lic["name"], lic["seats"]
        n = len(users.get(name, ()))
        c = outcome.get(name, Counter())
        total = sum(c.values())
        rows.append(
            {
                "license": name,
                "group": lic.get("group"),
                "seats": seats,
                "contenders": n,
                "ratio": f"{n / seats:g}:1" if seats else None,
                "checkouts": total,
                "granted": c["granted"],
                "refused": total - c["granted"] - c["no answer"],
                "peak_certainly_held": occ[name].peak() if name in occ else 0,
            }
        )
    return {"licenses": rows}


def heartbeat_storm(w: Window) -> dict[str, Any]:
    """In-sync against jittered heartbeats, side by side."""
    table = latency_table({k: v for k, v in w.latency.items() if k.startswith("heartbeat (")})
    out: dict[str, Any] = {"heartbeats": table}
    sync, jitter = table.get("heartbeat (sync)"), table.get("heartbeat (jitter)")
    if sync and jitter and jitter["p99"]:
        out["p99_sync_over_jitter"] = round(sync["p99"] / jitter["p99"], 2)
    return out


def thundering_herd(
    run: MergedRun, params: dict[str, Any], lease_seconds: float, epoch: float, users: int
) -> dict[str, Any]:
    """The return burst: when the herd came back, and how long until every client held again."""
    back = epoch + (float(params["steady_leases"]) + float(params["pause_leases"])) * lease_seconds
    recovered = sorted(m["t"] for m in run.marks if m["kind"] == "recovered")
    burst = {k: v for k, v in run.latency.items() if "(return)" in k}
    returns = run.logical_outcomes.get("heartbeat (return)", Counter())
    return {
        "paused_at": epoch + float(params["steady_leases"]) * lease_seconds,
        "returned_at": back,
        "clients": users,
        "clients_recovered": len(recovered),
        "seconds_until_all_held": round(recovered[-1] - back, 3) if len(recovered) >= users and recovered else None,
        "seconds_until_half_held": round(recovered[len(recovered) // 2] - back, 3) if recovered else None,
        "return_heartbeats": dict(returns),
        "burst_latency_ms": latency_table(burst),
    }


def retry_storm(run: MergedRun, history: History, params: dict[str, Any]) -> dict[str, Any]:
    """Attempts per logical operation, replays, and the keys that were retried."""
    per_key: Counter[tuple[str, str]] = Counter(
        (op.kind, op.idempotency_key) for op in history if op.idempotency_key and op.kind in ("checkout", "checkin")
    )
    retried = {k for k, n in per_key.items() if n > 1}
    leases_per_retried_key: dict[tuple[str, str], set[str]] = {}
    for op in history:
        key = (op.kind, op.idempotency_key or "")
        if key in retried and op.ok and op.lease:
            leases_per_retried_key.setdefault(key, set()).add(op.lease)
    attempts = {}
    for label, dist in sorted(run.attempts.items()):
        ops = sum(dist.values())
        sent = sum(n * c for n, c in dist.items())
        attempts[label] = {
            "logical_operations": ops,
            "attempts": sent,
            "mean_attempts": round(sent / ops, 3) if ops else None,
            "max_attempts": max(dist) if dist else 0,
            "distribution": {str(n): c for n, c in sorted(dist.items())},
            "gave_up": run.logical_outcomes.get(label, Counter())["failed"],
        }
    return {
        "client_timeout_ms": params.get("timeout_ms"),
        "timeout_calibrated": bool(params.get("timeout_calibrated")),
        "attempts": attempts,
        "replayed_answers": dict(run.replays),
        "retried_keys": len(retried),
        "retried_keys_with_more_than_one_lease": sum(1 for s in leases_per_retried_key.values() if len(s) > 1),
        "retried_operation_latency_ms": latency_table(run.retried_latency),
    }
