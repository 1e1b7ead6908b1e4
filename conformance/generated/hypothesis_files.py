"""hypothesis's own files: where they live, and the one we write for it.

hypothesis keeps what it computes once (a table of the characters UTF-8 can
encode; the literals it draws from our modules) in its home directory, by
default `.hypothesis/` in whatever directory the run started in. A run points
it at leasecheck's cache instead (`hypothesis_home`): computed once per
machine, and nothing left in the working directory.

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
test_hypothesis_files.py` compares our table with hypothesis's own computation
and checks that hypothesis reads ours.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from leasecheck.core.userdirs import user_dir

#: hypothesis's own setting for where it keeps its files; a user's value is kept.
HYPOTHESIS_HOME_ENV = "HYPOTHESIS_STORAGE_DIRECTORY"

#: The code points UTF-8 encodes (every one round-trips): all but the surrogates.
ENCODABLE = [[0, 0xD7FF], [0xE000, sys.maxunicode]]
#: The file hypothesis keeps its UTF-8 table in, under its Unicode data directory.
TABLE_NAME = "codec-v2-utf-8"


def hypothesis_home(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where hypothesis keeps what it computes once: $HYPOTHESIS_STORAGE_DIRECTORY, else
    $XDG_CACHE_HOME/leasecheck/hypothesis, else ~/.cache/leasecheck/hypothesis. None with
    no home directory to put it in (hypothesis's default, the working directory, stays)."""
    env = os.environ if environ is None else environ
    if env.get(HYPOTHESIS_HOME_ENV):
        return Path(env[HYPOTHESIS_HOME_ENV])
    try:
        return user_dir("XDG_CACHE_HOME", env) / "hypothesis"
    except (RuntimeError, KeyError):  # no $HOME and no passwd entry
        return None


def prepare_hypothesis() -> None:
    """Point hypothesis at `hypothesis_home` and write its UTF-8 table there: before it
    generates anything (each run's schemas are loaded first, `config.load_schema`)."""
    from hypothesis.configuration import set_hypothesis_home_dir

    home = hypothesis_home()
    if home is not None:
        set_hypothesis_home_dir(home)
    seed_utf8_table()  # 1.6 s and 200 MB a fresh machine no longer pays


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
