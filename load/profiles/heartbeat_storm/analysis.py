"""heartbeat-storm's part of the summary: in-sync against jittered heartbeats, side by side."""

from __future__ import annotations

from typing import Any

from leasecheck.load.analysis.window import Window, latency_table


def sync_against_jitter(w: Window) -> dict[str, Any]:
    table = latency_table({k: v for k, v in w.latency.items() if k.startswith("heartbeat (")})
    out: dict[str, Any] = {"heartbeats": table}
    sync, jitter = table.get("heartbeat (sync)"), table.get("heartbeat (jitter)")
    if sync and jitter and jitter["p99"]:
        out["p99_sync_over_jitter"] = round(sync["p99"] / jitter["p99"], 2)
    return out
