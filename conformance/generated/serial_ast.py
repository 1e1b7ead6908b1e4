"""One `ast.parse` at a time while generating from several threads.

hypothesis parses source at run time (lambda descriptions in a strategy's
repr, filter bounds, a module's literals), and CPython 3.11 keeps the AST
constructor's recursion depth per interpreter, not per thread: when a garbage
collection in the middle of one parse lets another thread parse, the count
goes wrong and the parse fails with `SystemError: AST constructor recursion
depth mismatch` (python/cpython#106905), which schemathesis reports as an
error on the operation (a far target's run, four workers and the stateful
sequences beside them, failed so in one of its first two runs). Parsing under one lock
for the run keeps it from happening; a thread's own nested parse re-enters.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.RLock()
#: Guards the patch itself: how many `serial_ast_parse` blocks are open, and what to restore.
_STATE = threading.Lock()
_open = 0
_original: Any = None


def _parse(*args: Any, **kwargs: Any) -> Any:
    with _LOCK:
        return _original(*args, **kwargs)


@contextmanager
def serial_ast_parse(enabled: bool = True) -> Iterator[None]:
    """While open (and `enabled`), `ast.parse` runs under one lock.

    The patch is process-wide, so it is counted: the first block to open installs
    it and the last to close takes it away, whatever order blocks of several runs
    (threads) close in; a block that closes first never unpatches the others."""
    global _open, _original
    if not enabled:
        yield
        return
    with _STATE:
        if _open == 0:
            _original = ast.parse
            ast.parse = _parse
        _open += 1
    try:
        yield
    finally:
        with _STATE:
            _open -= 1
            if _open == 0:
                ast.parse = _original
                _original = None
