"""retry-storm's part of the summary: attempts per logical operation, replays, and the retried keys."""

from __future__ import annotations

from collections import Counter
from typing import Any

from leasecheck.core.history import History
from leasecheck.load.analysis.shards import MergedRun
from leasecheck.load.analysis.window import latency_table


def retries(run: MergedRun, history: History, params: dict[str, Any]) -> dict[str, Any]:
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
