"""Blocking store work, run off the event loop on a thread pool of the worker's own.

Starlette's `run_in_threadpool` goes through anyio (a capacity limiter, a
cancel scope and a worker-thread handshake per call): about 50 µs more CPU per
call than asyncio's own `run_in_executor`, on every lease request. The pool
has anyio's default size (40 threads), so as many writers can queue for a
group commit (group_commit.py) as before.

A task cancelled while its call runs stops waiting, but the call itself runs
to its end (a thread cannot be interrupted): a write is committed or rolled
back whole, never cut short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

#: anyio's default thread limit, which the server ran with before.
THREADS = 40


class Offload:
    """`await offload(fn, *args)`: `fn(*args)` in a pool thread."""

    def __init__(self, threads: int = THREADS) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="leasecheck-store")

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
