"""The coverage table folded to one row per operation.

results.json lists every (operation, status) pair, 79 of them; as rows they
buried the matrix. One row per operation says the same: which documented
answers were seen (how often), which never were, and any undocumented ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class OperationCoverage:
    operation: str
    method: str
    path: str
    seen: list[tuple[int, int]] = field(default_factory=list)  # documented (status, times seen)
    not_seen: list[int] = field(default_factory=list)  # documented, never answered
    undocumented: list[tuple[int, int]] = field(default_factory=list)  # answered, not in the spec
    notes: list[str] = field(default_factory=list)


def by_operation(coverage: dict[str, Any]) -> list[OperationCoverage]:
    """Fold coverage["operations"] rows into one entry per operation, in their order."""
    out: dict[tuple[str, str, str], OperationCoverage] = {}
    for row in coverage.get("operations") or []:
        key = (str(row.get("operation", "")), str(row.get("method", "")), str(row.get("path", "")))
        op = out.setdefault(key, OperationCoverage(*key))
        status, seen = row.get("status"), int(row.get("seen") or 0)
        if row.get("documented"):
            if seen:
                op.seen.append((status, seen))
            else:
                op.not_seen.append(status)
        elif seen:
            op.undocumented.append((status, seen))
        if row.get("note"):
            op.notes.append(f"{status}: {row['note']}")
    return list(out.values())


@dataclass
class NotRunGroup:
    reason: str
    requirements: list[tuple[str, str]]  # (id, level), MUST first

    @property
    def musts(self) -> int:
        return sum(1 for _, level in self.requirements if level == "MUST")


def not_run_groups(coverage: dict[str, Any]) -> list[NotRunGroup]:
    """Requirements not run, one group per reason: "area not selected" 62 times is one line, not 62 rows."""
    groups: dict[str, NotRunGroup] = {}
    for n in (coverage.get("requirements") or {}).get("not_run_reasons") or []:
        g = groups.setdefault(str(n.get("reason") or "not run"), NotRunGroup(str(n.get("reason") or "not run"), []))
        g.requirements.append((str(n["id"]), str(n.get("level", ""))))
    for g in groups.values():
        g.requirements.sort(key=lambda r: r[1] != "MUST")
    return sorted(groups.values(), key=lambda g: (-g.musts, g.reason))
