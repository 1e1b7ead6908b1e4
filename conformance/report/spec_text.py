"""What a requirement says, for a reader who has no requirements.yaml open.

results.json names a requirement by id, level and title only; a vendor acting
on a failure needs its statement, what its level means, the answers that pass
and where the rule comes from. All of that is in the catalogue the run used,
so it is looked up here at render time rather than copied into every run.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from leasecheck.specs import REQUIREMENTS_PATH, catalogue, requirements

#: What each level does to a run: the suite's policy (see verdict.run_outcome).
LEVEL_MEANING = {
    "MUST": "MUST: a failure fails the run.",
    "SHOULD": "SHOULD: a failure is a warning; the run can still pass.",
    "MAY": "MAY: informative; it never fails the run.",
}

# "#   facts      - ../shared/reference/... (LicenseKit contract + docs)" in the
# catalogue's header comment: the one place the source keys are explained.
_SOURCE_LINE = re.compile(r"^#\s+([a-z][\w-]*)\s+-\s+(.+?)\s*$")


@functools.cache
def sources() -> dict[str, str]:
    """Source key -> description, read from the catalogue's `# Sources:` comment block."""
    out: dict[str, str] = {}
    in_block = False
    for line in REQUIREMENTS_PATH.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            if in_block:
                break
            continue
        if line.strip() == "# Sources:":
            in_block = True
            continue
        match = _SOURCE_LINE.match(line) if in_block else None
        if match:
            out[match.group(1)] = match.group(2)
        elif in_block and out:
            break
    return out


@dataclass(frozen=True)
class RequirementText:
    """The catalogue's words for one requirement (empty strings where it has none)."""

    id: str
    statement: str
    level_meaning: str
    accepted: str
    source: str  # the key, e.g. "facts"
    source_text: str  # what the key stands for
    why: str  # the catalogue's `reason`
    reference: str  # what the bundled reference server answers
    area_text: str


def requirement_text(rid: str, level: str) -> RequirementText:
    """Look one requirement up; an id the catalogue no longer has still renders (from results.json alone)."""
    req = requirements().get(rid, {})
    source = str(req.get("source", ""))
    return RequirementText(
        id=rid,
        statement=str(req.get("statement", "")),
        level_meaning=LEVEL_MEANING.get(level, level),
        accepted=str(req.get("accepted", "")),
        source=source,
        source_text=sources().get(source, ""),
        why=str(req.get("reason", "")),
        reference=str(req.get("reference", "")),
        area_text=area_text(str(req.get("area", ""))),
    )


def area_text(area: str) -> str:
    """The catalogue's one-line description of an area ("" when unknown)."""
    return str(catalogue().get("areas", {}).get(area, ""))
