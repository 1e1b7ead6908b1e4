"""Ctrl-C and SIGTERM that never cut a request in half.

A KeyboardInterrupt raised while a request is on the wire abandons it after
the server may have acted: a checkout whose answer nobody read holds a seat
that no one can check in, a license created but not yet written to the run
ledger can never be revoked. So while the main thread is inside a
`held()` section, an interrupt is only noted, and raised as the section
ends (at most one request timeout later). A second signal while one is held
interrupts at once: a person pressing Ctrl-C twice means it.

Nothing changes unless `install()` was called (the conformance command does):
`held()` is then a depth counter and nothing more.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

_depth = 0  # held sections the main thread is in
_pending: int | None = None  # a signal that arrived inside one

#: Set once the run is asked to stop: threads waiting on lease deadlines
#: (`timeutil.wait_until`) give up instead of waiting out a lease window.
stopping = threading.Event()


class Stopping(Exception):
    """Raised in a waiting thread when the run is stopping."""


def _handler(signum: int, frame: Any) -> None:
    global _pending
    stopping.set()
    if _depth > 0 and _pending is None:
        _pending = signum
        return
    _pending = None
    raise KeyboardInterrupt(f"stopped by signal {signum}")


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Defer interrupts of the main thread until this section ends (other threads: no effect)."""
    global _depth, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            signum, _pending = _pending, None
            raise KeyboardInterrupt(f"stopped by signal {signum}")


@contextlib.contextmanager
def installed(signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Route these signals through the deferring handler for the duration (main thread only).
    SIGTERM, how CI runners stop a job, then ends a run the way Ctrl-C does."""
    try:
        previous = {s: signal.signal(s, _handler) for s in signals}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
