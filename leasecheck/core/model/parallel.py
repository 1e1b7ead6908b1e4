"""Judge the parts of a big history on several cores, in forked processes.

The history is already in memory; a forked child sees it as it is, without
pickling a million ops. Each child judges one part (`partition.py`) and sends
back only what it found (a few witnesses and the counts); the parent judges
the first part itself meanwhile. Where `fork` is not available, or for a
history too small to pay for a process, everything runs in this process.

CPU is honest: a caller timing the checker must add the children's CPU
(`resource.getrusage(RUSAGE_CHILDREN)` once they are reaped, which they are
before `run` returns).
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
P = TypeVar("P")

#: Below this many ops a second process costs more than it saves.
MIN_OPS = 200_000

_task: Callable[[Any], Any] | None = None


def default_workers(ops: int) -> int:
    """Cores this process may use (at most 4), or 1 for a small history or without fork."""
    if ops < MIN_OPS or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def run(task: Callable[[P], T], parts: Sequence[P]) -> list[T]:
    """`task(part)` for every part, the first in this process and each other in a forked child."""
    global _task
    if len(parts) <= 1:
        return [task(p) for p in parts]
    ctx = multiprocessing.get_context("fork")
    _task = task
    children = []
    try:
        for p in parts[1:]:
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(p, send), daemon=True)
            proc.start()
            send.close()
            children.append((proc, recv))
        results = [task(parts[0])]
        for proc, recv in children:
            ok, got = recv.recv()
            proc.join()
            if not ok:
                raise RuntimeError(f"a checker process failed:\n{got}")
            results.append(got)
        return results
    finally:
        _task = None
        for proc, recv in children:
            recv.close()
            if proc.is_alive():
                proc.kill()
                proc.join()


def _child(part: Any, send: Any) -> None:
    assert _task is not None
    try:
        send.send((True, _task(part)))
    except BaseException:
        send.send((False, traceback.format_exc()))
    finally:
        send.close()
