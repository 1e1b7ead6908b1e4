"""Lifecycle faults: lease tokens a stranger can guess (LIFE-*)."""

from __future__ import annotations

import itertools
import time

from leasecheck.reference_server.leases import Runtime

from . import bug


@bug("guessable-lease-tokens", "LIFE-06")
class SequentialTokens(Runtime):
    """Lease tokens are the time in milliseconds and a counter: short, ordered and guessable."""

    _counter = itertools.count()

    def new_token(self) -> str:
        return f"llt_{int(time.time() * 1000):x}{next(self._counter) % 65536:04x}"  # BUG: no randomness
