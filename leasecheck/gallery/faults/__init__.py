"""The faults, one module per requirement area (as conformance/scenarios/test_<area>.py).

Each fault is a subclass of one part of the reference server (`Runtime`,
`Idempotency`, `Envelopes` or `Api`) that overrides one public, named step
with the bug a real server has shipped, marked `# BUG:`. Read it beside the
step it overrides: the rest of the server stays correct.

A fault is its class: `@bug(name, *breaks)` names it and the requirement IDs
it violates, and the first paragraph of its docstring is the real-world bug it
mimics (what `leasecheck serve --list-faults` and the gallery's table print).
Adding a fault is one decorated class in the module of its area; `..registry`
finds it there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

C = TypeVar("C", bound=type)


@dataclass(frozen=True)
class Bug:
    """What `@bug` says of a fault class: its name, what it breaks, how it is caught."""

    name: str
    breaks: tuple[str, ...]  # requirement IDs the suite must fail
    race: bool = False  # caught only when requests interleave (see benchmarks/bench_race_catch.py)
    variant: str = "default"  # the honest variant it is built on
    #: Caught when any one of `breaks` fails: the bug shows as whichever of them the
    #: exploration's drawing reaches first (a refusal of the lease it ended, or its seat given away).
    any_of: bool = False
    #: The areas the matrix runs for it; () means those of `breaks`. A requirement judged only
    #: by another area (INPUT-04, by the generated requests) names that area here.
    areas: tuple[str, ...] = ()


def bug(
    name: str,
    *breaks: str,
    race: bool = False,
    variant: str = "default",
    any_of: bool = False,
    areas: tuple[str, ...] = (),
) -> Callable[[C], C]:
    """Mark a class as the fault `name`, which the suite must fail on `breaks`."""

    def mark(cls: C) -> C:
        cls.__gallery_bug__ = Bug(name, breaks, race, variant, any_of, areas)  # type: ignore[attr-defined]
        return cls

    return mark


def bug_of(cls: type) -> Bug | None:
    """The `Bug` a class was marked with itself (not one inherited from a faulty base)."""
    found = vars(cls).get("__gallery_bug__")
    return found if isinstance(found, Bug) else None


#: How long a racy fault waits between its check and its write. Real servers
#: put a log write, an RPC or a GC pause there; a few ms is a modest window.
#: benchmarks/bench_race_catch.py varies it (milliseconds, in the environment).
RACE_WINDOW_SECONDS = float(os.environ.get("LEASECHECK_FAULT_RACE_WINDOW_MS", "5")) / 1000
