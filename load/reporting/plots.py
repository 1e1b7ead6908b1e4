"""The report's figures, as inline PNGs (one self-contained HTML file).

Seats in use against capacity, latency percentiles per endpoint, offered and
achieved throughput, denials and failures: all per second of the run,
seconds counted from the run's shared epoch. A profile may add figures of
its own (`Profile.figures`); they are encoded here like the rest.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from leasecheck.load.analysis.occupancy import Occupancy
from leasecheck.load.analysis.shards import MergedRun
from leasecheck.load.analysis.window import endpoint_of


def png(fig: Any) -> str:
    """A figure as base64 PNG for an inline <img>; the figure is closed."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def seats(occ: dict[str, Occupancy], epoch: float, end: float) -> str | None:
    fig = seats_figure(occ, epoch)
    return None if fig is None else png(fig)


def seats_figure(occ: dict[str, Occupancy], epoch: float) -> Figure | None:
    """Seats held per license, and every pool's size as a dashed capacity line:
    licenses of one size share one line. A pool far above what is held (the
    step profile's, sized never to deny) puts the axis on a log scale, so the
    capacity is drawn and the seats in use stay readable."""
    held = {name: o for name, o in sorted(occ.items()) if o.steps}
    if not held:
        return None
    fig = Figure(figsize=(10, 3.4))
    ax = fig.subplots()
    peak = max(o.peak() for o in held.values())
    colour = {}
    for name, o in held.items():
        xs, ys = [t - epoch for t, _ in o.steps], [n for _, n in o.steps]
        colour[_short(name)] = ax.step(xs, ys, where="post", label=f"{_short(name)} held")[0].get_color()
    lines = capacity_lines(occ)  # every pool, a license that held nothing included
    for capacity, names in lines.items():
        label = f"capacity {capacity} ({names if ',' not in names else names.split(':')[0]})"
        ax.axhline(capacity, color=colour.get(names, "#5f6368"), linestyle="--", linewidth=1.2, label=label)
    top = max(lines)
    if top > 10 * max(peak, 1):
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(-0.2, top * 4)
    else:
        ax.set_ylim(0, top * 1.15 + 0.5)
    ax.set_xlabel("s since start")
    ax.set_ylabel("leases certainly held")
    ax.set_title("Seats in use against capacity (dashed)")
    ax.legend(fontsize=7, ncol=1 if len(held) <= 8 else 2, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def capacity_lines(occ: dict[str, Occupancy]) -> dict[int, str]:
    """Each distinct pool size and the licenses that have it, as the figure labels them."""
    by_size: dict[int, list[str]] = {}
    for name, o in sorted(occ.items()):
        by_size.setdefault(o.capacity, []).append(_short(name))
    return {
        size: names[0] if len(names) == 1 else f"each of {len(names)} licenses: {', '.join(names)}"
        for size, names in sorted(by_size.items())
    }


def _short(name: str) -> str:
    return name.split(":")[0]


def _seconds(run: MergedRun, epoch: float) -> list[int]:
    return sorted(run.buckets)


def latency(run: MergedRun, epoch: float) -> str | None:
    labels = sorted({label for slot in run.buckets.values() for label in slot})
    if not labels:
        return None
    fig, ax = plt.subplots(figsize=(9, 3.4))
    for label in labels:
        xs, p50, p99 = [], [], []
        for b in _seconds(run, epoch):
            mb = run.buckets[b].get(label)
            if mb is None or not mb.latency.get_total_count():
                continue
            xs.append(b * run.bucket_seconds - epoch)
            p50.append(mb.latency.get_value_at_percentile(50) / 1000)
            p99.append(mb.latency.get_value_at_percentile(99) / 1000)
        if xs:
            line = ax.plot(xs, p99, label=f"{label} p99")[0]
            ax.plot(xs, p50, linestyle=":", color=line.get_color(), label=f"{label} p50")
    ax.set_yscale("log")
    ax.set_xlabel("s since start")
    ax.set_ylabel("ms")
    ax.set_title("Latency per endpoint, per second (p99 solid, p50 dotted)")
    ax.legend(fontsize=7, ncol=3)
    return png(fig)


def throughput(run: MergedRun, epoch: float) -> str | None:
    secs = _seconds(run, epoch)
    if not secs:
        return None
    bs = run.bucket_seconds
    xs = [b * bs - epoch for b in secs]
    answered = [sum(mb.latency.get_total_count() for mb in run.buckets[b].values()) / bs for b in secs]
    endpoints = sorted({endpoint_of(label) for slot in run.buckets.values() for label in slot})
    denied = [sum(mb.outcomes["denied"] for mb in run.buckets[b].values()) / bs for b in secs]
    failed = [sum(mb.outcomes["failed"] + mb.logical["shed"] for mb in run.buckets[b].values()) / bs for b in secs]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 4.6), sharex=True)
    ax1.plot(xs, answered, label="achieved, all requests/s", linewidth=2)
    for ep in endpoints:
        ax1.plot(
            xs,
            [
                sum(mb.latency.get_total_count() for label, mb in run.buckets[b].items() if endpoint_of(label) == ep)
                / bs
                for b in secs
            ],
            linewidth=1,
            label=f"achieved {ep}/s",
        )
    if run.offered:
        ax1.plot(
            xs,
            [run.offered.get(b, 0) / bs for b in secs],
            linestyle="--",
            color="black",
            label="offered arrivals/s (each starts with a checkout)",
        )
    ax1.set_ylabel("requests/s")
    ax1.set_title("Throughput")
    ax1.legend(fontsize=7)
    ax2.bar(xs, denied, width=bs * 0.9, label="denials/s (no seat: the system working)", color="#8ab4f8")
    ax2.bar(xs, failed, width=bs * 0.9, bottom=denied, label="failures/s", color="#ea4335")
    ax2.set_xlabel("s since start")
    ax2.set_ylabel("per second")
    ax2.set_title("Denials and failures")
    ax2.legend(fontsize=7)
    return png(fig)
