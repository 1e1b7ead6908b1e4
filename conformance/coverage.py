"""Coverage: what a run actually exercised.

A verdict is only as broad as the run behind it. Coverage counts, for every
operation of the spec and every status code it documents, the answers the
run saw (answers with undocumented statuses are listed too), and sums up the
requirements by outcome with the reason each unrun one did not run. A vendor
sees at a glance what a PASSED covers; a run that exercised little says
"partial" in its headline instead of looking like a full pass.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from leasecheck.core.client import Exchange
from leasecheck.core.envelope import ALWAYS_ALLOWED, find_operation, operation_index


class Coverage:
    """Counts (operationId, status) over every answer a run received (thread-safe)."""

    def __init__(self) -> None:
        self._routes = operation_index()
        self._seen: Counter[tuple[str, int]] = Counter()
        self.unmatched = 0  # answers to requests outside the spec (e.g. probes of unknown routes)
        self._lock = threading.Lock()

    def observe(self, ex: Exchange) -> None:
        if ex.status is None:
            return
        op = find_operation(self._routes, ex.method, ex.path)
        with self._lock:
            if op is None:
                self.unmatched += 1
            else:
                self._seen[(op.get("operationId", f"{ex.method} {ex.path}"), ex.status)] += 1

    def operations(self) -> list[dict[str, Any]]:
        """One row per (operation, status): every documented status, then any
        undocumented status that was answered (documented = false)."""
        with self._lock:
            seen = dict(self._seen)
        rows: list[dict[str, Any]] = []
        for (method, path), op in self._routes.items():
            name = op.get("operationId", f"{method} {path}")
            documented = sorted(int(s) for s in op.get("responses", {}) if str(s).isdigit())
            extra = sorted(st for (o, st) in seen if o == name and st not in documented)
            for status in documented + extra:
                row: dict[str, Any] = {
                    "operation": name,
                    "method": method,
                    "path": path,
                    "status": status,
                    "documented": status in documented,
                    "seen": seen.get((name, status), 0),
                }
                if status not in documented and status in ALWAYS_ALLOWED:
                    row["note"] = "not documented here, always allowed (ENV-04)"
                rows.append(row)
        return rows

    def to_json(self, requirements: list[dict[str, Any]]) -> dict[str, Any]:
        rows = self.operations()
        documented = [r for r in rows if r["documented"]]
        reqs = requirement_summary(requirements)
        return {
            "operations": rows,
            "statuses": {
                "documented": len(documented),
                "documented_seen": sum(1 for r in documented if r["seen"]),
                "undocumented_seen": sum(1 for r in rows if not r["documented"] and r["seen"]),
                "operations": len({r["operation"] for r in rows}),
                "operations_seen": len({r["operation"] for r in rows if r["seen"]}),
                "answers_outside_spec": self.unmatched,
            },
            "requirements": reqs,
            "complete": reqs["checked"] == reqs["total"],
        }


def requirement_summary(requirements: list[dict[str, Any]]) -> dict[str, Any]:
    """Requirements by outcome; every unrun one with its reason."""
    counts = {o: 0 for o in ("passed", "failed", "warning", "not_run")}
    not_run = []
    for r in requirements:
        counts[r["outcome"]] += 1
        if r["outcome"] == "not_run":
            not_run.append({"id": r["id"], "level": r["level"], "reason": r.get("reason") or "not run"})
    total = len(requirements)
    return {**counts, "total": total, "checked": total - counts["not_run"], "not_run_reasons": not_run}


def headline(outcome: str, coverage: dict[str, Any]) -> str:
    """'PASSED' for a full run, 'PASSED (partial: 12 of 68 requirements checked)' otherwise."""
    reqs = coverage["requirements"]
    word = outcome.upper()
    if coverage["complete"]:
        return word
    return f"{word} (partial: {reqs['checked']} of {reqs['total']} requirements checked)"


def summary_line(coverage: dict[str, Any]) -> str:
    s, q = coverage["statuses"], coverage["requirements"]
    return (
        f"coverage: {q['checked']} of {q['total']} requirements checked; {s['documented_seen']} of "
        f"{s['documented']} documented (operation, status) pairs seen across {s['operations_seen']} of "
        f"{s['operations']} operations"
    )
