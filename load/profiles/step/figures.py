"""The step profile's figure: throughput against p99, one point a step, the knee starred."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure


def knee(steps: list[dict[str, Any]], limit_ms: float | None, knee_step: int | None = None) -> Figure | None:
    rows = [s for s in steps if s.get("p99_ms") is not None]
    if not rows:
        return None
    fig = Figure(figsize=(6.5, 3.4))
    ax = fig.subplots()
    ax.plot([s["achieved_rps"] for s in rows], [s["p99_ms"] for s in rows], marker="o")
    for s in rows:
        ax.annotate(
            str(s["step"]), (s["achieved_rps"], s["p99_ms"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    at = next((s for s in rows if s["step"] == knee_step), None)
    if at is not None:
        ax.plot(
            [at["achieved_rps"]],
            [at["p99_ms"]],
            marker="*",
            markersize=14,
            color="#188038",
            linestyle="none",
            label=f"knee (step {at['step']})",
        )
    if limit_ms is not None:
        ax.axhline(limit_ms, color="#ea4335", linestyle="--", label=f"SLO p99 {limit_ms:g} ms")
    if limit_ms is not None or at is not None:
        ax.legend(fontsize=7)
    ax.set_yscale("log")
    ax.set_xlabel("achieved requests/s (step number annotated)")
    ax.set_ylabel("p99 ms")
    ax.set_title("Step profile: throughput against p99")
    return fig
