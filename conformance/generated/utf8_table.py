"""hypothesis's table of the characters UTF-8 can encode, written before hypothesis builds it.

The first time hypothesis draws text for a UTF-8 body it finds out which code
points UTF-8 can encode by trying all 1,114,112 of them, one tuple per code
point in a list: about 1.6 s of CPU and 200 MB of memory, then it stores the
answer (two intervals) in its home and reads it from there on. Every fresh
machine paid that on its first run, every CI container on every run, and
the peak was past the run's 150 MB budget.

The answer is a fact of UTF-8, not of the machine: every code point but the
surrogates (U+D800..U+DFFF) encodes, and each one decodes back to itself. So
we write it where hypothesis looks, in the form it writes itself, when it is
not there yet. Where hypothesis moves or reshapes that file (the module is
one of its internals), reading ours fails, hypothesis computes the table as
before and nothing is wrong but the cost; `tests/conformance/generated/
test_utf8_table.py` compares our table with hypothesis's own computation and
checks that hypothesis reads ours.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

#: The code points UTF-8 encodes (every one round-trips): all but the surrogates.
ENCODABLE = [[0, 0xD7FF], [0xE000, sys.maxunicode]]
#: The file hypothesis keeps its UTF-8 table in, under its Unicode data directory.
TABLE_NAME = "codec-v2-utf-8"


def table_path() -> Path | None:
    """Where hypothesis reads the table from (its home as set now); None where its internals moved."""
    try:
        from hypothesis.internal.charmap import charmap_file
    except ImportError:
        return None
    return Path(charmap_file(TABLE_NAME))


def seed_utf8_table() -> Path | None:
    """Write the table unless hypothesis has one already; the path, or None if nothing was
    written (already there, hypothesis's internals moved, or the home is not writable)."""
    path = table_path()
    if path is None or path.exists():
        return None
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".utf8-table-")
        os.close(fd)
        with gzip.GzipFile(tmp, "wb", mtime=1) as f:  # byte for byte what hypothesis writes
            f.write(json.dumps([ENCODABLE, []]).encode())
        os.replace(tmp, path)  # atomic: a run beside this one reads all of it or none
        return path
    except OSError:  # not writable: hypothesis computes the table, as it did before
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return None
