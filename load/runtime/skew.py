"""An injectable clock error, for tests that need a worker whose clock is off.

`LEASECHECK_TEST_CLOCK_SKEW=SECONDS` in a locust process's environment makes
`time.time()` in that process read SECONDS ahead (negative: behind), like a
machine whose clock was never synchronised: every send and receive instant
it records, and every shared-clock event it schedules, is off by that much.
The tests use it to prove that the judge measures each worker's clock
against the server's `meta.timestamp` instead of trusting it. Nothing but
tests should set it.
"""

from __future__ import annotations

import os
import time

SKEW_ENV = "LEASECHECK_TEST_CLOCK_SKEW"


def apply_from_env() -> float:
    """Shift this process's wall clock by the environment's skew; returns it (0.0: none)."""
    raw = os.environ.get(SKEW_ENV, "").strip()
    if not raw:
        return 0.0
    skew = float(raw)
    real = time.time
    time.time = lambda: real() + skew
    return skew
