"""A failing program cut down to a short one that still fails: the witness a reader replays.

First the slice: the steps that sent the model's witness ops and those they
depend on (the checkout whose lease they address, the request whose key they
reuse, the waits on those leases); usually one replay of it still fails.
Then delta debugging over rounds, then over the steps of each round: drop a chunk,
replay the rest against fresh licenses, keep the cut when the model still
finds a violation of the same kind. A replay may pass where the original
failed only by timing (a race not lost again); the cut is then not taken, so
the result is always a program that was seen failing. Bounded by a deadline:
what is left when it passes is as short as the time allowed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .steps import MANAGEMENT, Program, Step

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


def slice_of(program: Program, sids: set[int]) -> Program:
    """The steps in `sids`, every step they depend on, the waits on the leases they touch and
    the status changes of their licenses."""
    steps: dict[int, Step] = {s.sid: s for rnd in program for s in rnd}
    keep = {sid for sid in sids if sid in steps}
    grew = True
    while grew:
        grew = False
        for sid in list(keep):
            s = steps[sid]
            for dep in (s.lease, s.key_of):
                if dep is not None and dep in steps and dep not in keep:
                    keep.add(dep)
                    grew = True
    leases = {steps[sid].lease for sid in keep} | keep
    licenses = {steps[sid].lic for sid in keep}
    keep |= {s.sid for s in steps.values() if s.op == "wait" and s.lease in leases}
    keep |= {s.sid for s in steps.values() if s.op in MANAGEMENT and s.lic in licenses}
    out = tuple(tuple(s for s in rnd if s.sid in keep) for rnd in program)
    return tuple(r for r in out if r)
