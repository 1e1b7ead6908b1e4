"""A failing program cut down to a short one that still fails: the witness a reader replays.

Delta debugging over rounds, then over the steps of each round: drop a chunk,
replay the rest against fresh licenses, keep the cut when the model still
finds a violation of the same kind. A replay may pass where the original
failed only by timing (a race not lost again); the cut is then not taken, so
the result is always a program that was seen failing. Bounded by a deadline:
what is left when it passes is as short as the time allowed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .steps import Program

#: `fails(program)` replays a program and says whether it still fails.
Replay = Callable[[Program], bool]


def shrink(program: Program, fails: Replay, deadline: float) -> Program:
    rounds = list(program)
    chunk = max(1, len(rounds) // 2)
    while time.time() < deadline:
        i, cut = 0, False
        while i < len(rounds) and time.time() < deadline:
            candidate = rounds[:i] + rounds[i + chunk :]
            if candidate and fails(tuple(candidate)):
                rounds, cut = candidate, True
            else:
                i += chunk
        if chunk == 1 and not cut:
            break
        if not cut:
            chunk = max(1, chunk // 2)
    # Then the steps sent together: fewer at once, where fewer still fail.
    for i in range(len(rounds)):
        j = 0
        while len(rounds[i]) > 1 and j < len(rounds[i]) and time.time() < deadline:
            thinner = rounds[i][:j] + rounds[i][j + 1 :]
            candidate = rounds[:i] + [thinner] + rounds[i + 1 :]
            if fails(tuple(candidate)):
                rounds = candidate
            else:
                j += 1
    return tuple(rounds)
