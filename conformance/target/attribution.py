"""Which scenario an answer belongs to, when scenarios run side by side.

A universal check that fails on an answer becomes a record of the scenario
that sent it, and a race is noted under the scenario that ran it. With one
scenario at a time that is "the one running now"; with scenarios started
early in threads (conformance/scenarios/conftest.py) each thread says which
scenario it works for (`working_for`), and a connection opened by that
thread keeps working for it in the threads it is lent to (a race's
contenders): `Transport` observes each answer under its connection's owner.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_here = threading.local()


def working_for() -> str | None:
    """The scenario this thread works for (its node id), None when not told."""
    return getattr(_here, "test", None)


@contextlib.contextmanager
def working(test: str | None) -> Iterator[None]:
    """This thread works for `test` meanwhile (None: leaves it as it was)."""
    before = working_for()
    if test is not None:
        _here.test = test
    try:
        yield
    finally:
        _here.test = before
