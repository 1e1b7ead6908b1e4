"""Work on a whole history at once: the cyclic garbage collector paused.

Why: reading, aligning and judging a million ops builds millions of objects
that all stay alive. Each collection would rescan every one of them, and a
million new containers set off many; the collector found nothing to free and
cost more than the work (10 s of CPU to read three columns of 1 M ops, where
the reading takes 0.3 s). The core checker pauses it the same way.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
