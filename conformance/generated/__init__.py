"""Generated requests: schemathesis against the target, every finding under a requirement ID.

`run_generated(target, fixture, seed=..., max_examples=...)` drives
schemathesis 4.x from `specs/openapi.yaml` against the server under test
with one license (a large pool: fuzzing never checks leases in), and judges
what it saw into a `GeneratedRun`; `conformance/scenarios/test_generated.py`
reports it as one test item per requirement in `REQUIREMENTS`.

The parts, in the order a run uses them:

- `config`: the schemathesis configuration (phases, seed, checks and the
  statuses they accept), the schema, and the hook that gives each call a
  fresh Idempotency-Key;
- `engine`: runs the engine under a wall-clock guard, then the judging, and
  hands every exchange to the suite's inspection and lease tracker;
- `recorded`: schemathesis's recorders into `Observation`s (a core
  `Exchange` plus the case's phase and mode) and `Reported` failures;
- `exercised`: which requirements the requests exercised;
- `triage`: which schemathesis failures are requirement failures, and which
  are schemathesis's mistakes about an honest server (tolerated, counted);
- `invariants`: the own checks over the whole run in order (LIFE-01, CHK-03,
  LIFE-03, TIME-02, CHK-02, LIFE-05);
- `problems`: what a request as sent breaks by our spec, which all of the
  judging asks; `operations`: what our spec ties to each operation;
  `run`: the records a run fills.
"""

from __future__ import annotations

# Re-exported by the redundant aliases (not `__all__`): a string literal in any leasecheck
# module joins the constants hypothesis draws generated values from (see config.py).
from .engine import run_generated as run_generated
from .run import REQUIREMENTS as REQUIREMENTS
from .run import Finding as Finding
from .run import GeneratedRun as GeneratedRun
