"""explore: seeded random concurrent workloads, the whole history judged by the contract model.

One exploration per run (a timeline script, so its waits overlap the expiry
scenarios'), bounded by `explore_seconds` and seeded by `seed`; both tests
read the same result, one per direction of what the model judges. It runs
`first`: what it explores depends on the CPU it gets within its budget, so
the other scenarios start once it is done (conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from leasecheck.conformance.explore import Exploration, explore
from leasecheck.core.model import REFUSAL, UNSAFE

#: Why exploration needs a management token: it creates its own licenses and changes their status.
MANAGES = "creates its own licenses and suspends, reinstates and revokes them"


def _explore(stage: Any) -> Exploration:
    s = stage.target.settings
    return explore(stage.target, seed=s.seed, budget=s.explore_seconds)


def _judge(expect: Any, rid: str, direction: str, result: Exploration) -> None:
    if result.not_run:
        pytest.skip(f"not_run: {result.not_run}")
    if result.programs == 0:
        pytest.skip(f"not_run: no program ran within the budget ({result.summary()}); raise --explore-seconds")
    expect.note(rid, result.summary())
    finding = result.findings.get(direction)
    expect(rid, finding is None, finding.describe(result.seed) if finding else "")


@pytest.mark.timeline(script=_explore, first=True)
@pytest.mark.requirement("EXPL-01")
@pytest.mark.needs_management(MANAGES)
def test_no_success_the_model_cannot_explain(expect, timeline):
    _judge(expect, "EXPL-01", UNSAFE, timeline)


@pytest.mark.timeline(script=_explore, first=True)
@pytest.mark.requirement("EXPL-02")
@pytest.mark.needs_management(MANAGES)
def test_no_refusal_the_model_cannot_explain(expect, timeline):
    _judge(expect, "EXPL-02", REFUSAL, timeline)
