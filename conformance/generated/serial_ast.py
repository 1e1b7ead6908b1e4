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


@contextmanager
def serial_ast_parse(enabled: bool = True) -> Iterator[None]:
    """While open (and `enabled`), `ast.parse` runs under one lock."""
    if not enabled:
        yield
        return
    original = ast.parse

    def parse(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(*args, **kwargs)

    ast.parse = parse
    try:
        yield
    finally:
        ast.parse = original
