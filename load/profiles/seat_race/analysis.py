"""seat-race's part of the summary: per license, who contended and what they got."""

from __future__ import annotations

from collections import Counter
from typing import Any

from leasecheck.core.history import History
from leasecheck.load.analysis.occupancy import Occupancy


def contention(history: History, licenses: list[dict[str, Any]], occ: dict[str, Occupancy]) -> dict[str, Any]:
    """Per license: contenders, seats, what they got, and the peak certainly held."""
    # One pass over the whole history (a million ops), no per-op property or per-license rescan.
    users: dict[str, set[str]] = {}
    outcome: dict[str, Counter[str]] = {}
    for op in history.ops:
        if op.kind != "checkout":
            continue
        name, status = op.license, op.status
        got = users.get(name)
        if got is None:
            got = users[name] = set()
            outcome[name] = Counter()
        got.add(op.worker or "?")
        key = "no answer" if status is None else ("granted" if 200 <= status < 300 else str(status))
        outcome[name][key] += 1
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
