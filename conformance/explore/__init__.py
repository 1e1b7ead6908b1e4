"""Exploration: seeded random concurrent workloads, judged whole by the contract model.

The scenario areas each aim at one rule; real servers ship bugs in the
combinations between them (two kinds of operation at once, one license's
traffic touching another's, a status change mid-traffic, a boundary of time
or size). Exploration generates those combinations from the model's own
vocabulary and lets `leasecheck.core.model.check_history` decide whether
any order of the recorded operations explains every answer.

Modules, one idea each:

- `steps`     the program language: steps, rounds (steps sent together), text
- `choose`    what to do next: every operation from every observed state, the
              least-visited first (coverage-guided, seeded)
- `execute`   one program against the target, recorded as a history
- `shrink`    a failing program cut down to a short one that still fails
- `explore`   the budgeted loop: programs until the budget ends, then the witness
"""

from .explore import Exploration, explore

__all__ = ["Exploration", "explore"]
