"""Where our spec may be stricter than the official contract, and why.

A requirement in `specs/requirements.yaml` explains a stricter point with a
`stricter_than_contract` list; each entry names where it applies and says why:

    stricter_than_contract:
      - operation: checkoutFloatingLicense   # optional, default "*": an operationId or "METHOD /path"
        location: /requestBody/*             # a Difference location; shell-style wildcards
        kind: max_length                     # optional: one Kind value
        reason: The suite never sends longer strings, so a server's own limit is no finding.

Patterns use `fnmatch` (`*` also matches `/`). Only `stricter` differences
can be explained this way: a contradiction stays one whatever the catalogue
says, and an entry that explains nothing is reported (as info) so stale
entries do not pile up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from .model import ContractError, Difference, Kind, Severity

__all__ = ["Allowance", "allowances", "apply", "read_allowances"]

FIELD = "stricter_than_contract"


@dataclass(frozen=True)
class Allowance:
    """One explained stricter point (or a family of them, with wildcards)."""

    requirement: str
    location: str
    reason: str
    operation: str = "*"
    kind: str | None = None

    def matches(self, d: Difference) -> bool:
        if self.kind is not None and self.kind != d.kind.value:
            return False
        names = [d.operation] + ([d.operation_id] if d.operation_id else [])
        if not any(fnmatchcase(name, self.operation) for name in names):
            return False
        return fnmatchcase(d.location, self.location)

    @property
    def label(self) -> str:
        kind = f" [{self.kind}]" if self.kind else ""
        return f"{self.requirement} {self.operation} {self.location}{kind}"


def allowances(catalogue: Mapping[str, Any]) -> list[Allowance]:
    """Every `stricter_than_contract` entry of a parsed catalogue; malformed ones are a ContractError."""
    kinds = {k.value for k in Kind}
    out = []
    for req in catalogue.get("requirements", []) or []:
        if not isinstance(req, dict) or FIELD not in req:
            continue
        rid = str(req.get("id", "?"))
        entries = req[FIELD]
        if not isinstance(entries, list) or not entries:
            raise ContractError(f"requirements: {rid}: {FIELD} must be a non-empty list")
        for i, entry in enumerate(entries):
            where = f"requirements: {rid}: {FIELD}[{i}]"
            if not isinstance(entry, dict):
                raise ContractError(f"{where} must be a mapping with location and reason")
            unknown = sorted(set(entry) - {"operation", "location", "kind", "reason"})
            if unknown:
                raise ContractError(f"{where}: unknown key {unknown[0]!r}")
            location, reason = entry.get("location"), entry.get("reason")
            if not isinstance(location, str) or not location.startswith(("/", "*")):
                raise ContractError(f"{where}: location must be a string starting with / (or *)")
            if not isinstance(reason, str) or not reason.strip():
                raise ContractError(f"{where}: a reason is required")
            kind = entry.get("kind")
            if kind is not None and kind not in kinds:
                raise ContractError(f"{where}: unknown kind {kind!r}")
            operation = entry.get("operation", "*")
            if not isinstance(operation, str) or not operation:
                raise ContractError(f"{where}: operation must be a string")
            out.append(Allowance(rid, location, reason.strip(), operation, kind))
    return out


def read_allowances(path: Path) -> list[Allowance]:
    """The allowances of the catalogue at `path`."""
    if not path.is_file():
        raise ContractError(f"requirements: no such file: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raise ContractError(f"requirements: {path} is not a readable YAML file") from None
    if not isinstance(raw, dict):
        raise ContractError(f"requirements: {path} is not a requirement catalogue (not a mapping)")
    return allowances(raw)


def apply(differences: Iterable[Difference], given: Iterable[Allowance]) -> list[Difference]:
    """`differences` with explained stricter points marked, plus one info line per idle allowance."""
    given = list(given)
    used: set[Allowance] = set()
    out = []
    for d in differences:
        if d.severity is Severity.STRICTER:
            match = next((a for a in given if a.matches(d)), None)
            if match is not None:
                used.add(match)
                d = d.explained(f"{match.requirement}: {match.reason}")
        out.append(d)
    for a in given:
        if a not in used:
            note = "explains no stricter point (stale, or the point is a contradiction, which cannot be explained)"
            out.append(
                Difference(a.operation, None, a.location, Kind.ALLOWANCE, Severity.INFO, a.requirement, None, note)
            )
    return out
