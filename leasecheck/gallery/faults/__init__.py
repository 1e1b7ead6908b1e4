"""The faults, one module per requirement area (as conformance/scenarios/test_<area>.py).

Each fault is a subclass of one part of the reference server (`Runtime`,
`Idempotency`, `Envelopes` or `Api`) that overrides one public, named step
with the bug a real server has shipped, marked `# BUG:`. Read it beside the
step it overrides: the rest of the server stays correct. What a fault is
called, what it breaks and how it is told apart lives in `..registry`.
"""

from __future__ import annotations

import os

#: How long a racy fault waits between its check and its write. Real servers
#: put a log write, an RPC or a GC pause there; a few ms is a modest window.
#: benchmarks/bench_race_catch.py varies it (milliseconds, in the environment).
RACE_WINDOW_SECONDS = float(os.environ.get("LEASECHECK_FAULT_RACE_WINDOW_MS", "5")) / 1000
