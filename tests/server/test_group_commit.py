"""Group commit: queued writers share a COMMIT, each operation still stands or falls alone,
and no writer returns before its work is committed."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from leasecheck.reference_server.group_commit import GroupCommit

WRITERS = 6


def make(tmp_path: Path) -> tuple[GroupCommit, list[str], Path]:
    path = tmp_path / "g.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode = WAL")
    setup.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    setup.close()
    statements: list[str] = []

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous = FULL")
        conn.set_trace_callback(statements.append)
        return conn

    return GroupCommit(connect, lock_timeout=30.0), statements, path


def committed(path: Path) -> list[int]:
    """What another connection sees: only committed rows."""
    with sqlite3.connect(path) as conn:
        return [n for (n,) in conn.execute("SELECT n FROM t ORDER BY n")]


def queue_behind_first(group: GroupCommit, work: dict[int, object], path: Path) -> list[BaseException | None]:
    """Writer 0 holds the connection until the others are queued for it; then all run.
    `work[i]` is what writer i does inside its transaction (an int to insert, or an exception)."""
    errors: list[BaseException | None] = [None] * WRITERS
    release = threading.Event()

    def writer(i: int) -> None:
        try:
            with group.transaction() as conn:
                if i == 0:
                    release.wait(30)
                what = work[i]
                if isinstance(what, BaseException):
                    conn.execute("INSERT INTO t VALUES (?)", (1000 + i,))  # undone with the operation
                    raise what
                conn.execute("INSERT INTO t VALUES (?)", (what,))
            # Returned: the work must already be visible to everyone.
            assert what in committed(path)
        except BaseException as exc:
            errors[i] = exc

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    threads[0].start()
    deadline = time.monotonic() + 30  # a bound on a hang, not a wait for anything timed
    while group._batch is None and time.monotonic() < deadline:
        time.sleep(0.001)
    for t in threads[1:]:
        t.start()
    while group._queued < WRITERS - 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    release.set()
    for t in threads:
        t.join(30)
    return errors


def test_queued_writers_share_one_commit_and_return_committed(tmp_path):
    group, statements, path = make(tmp_path)
    errors = queue_behind_first(group, {i: i for i in range(WRITERS)}, path)
    assert errors == [None] * WRITERS
    assert committed(path) == list(range(WRITERS))
    commits = [s for s in statements if s == "COMMIT"]
    assert 1 <= len(commits) < WRITERS, statements


def test_an_operation_that_raises_is_undone_alone(tmp_path):
    group, _, path = make(tmp_path)
    work: dict[int, object] = {i: i for i in range(WRITERS)}
    work[2] = ValueError("refused")
    errors = queue_behind_first(group, work, path)
    assert isinstance(errors[2], ValueError)
    assert [e for i, e in enumerate(errors) if i != 2] == [None] * (WRITERS - 1)
    assert committed(path) == [i for i in range(WRITERS) if i != 2]


def test_a_lone_writer_commits_at_once(tmp_path):
    group, statements, path = make(tmp_path)
    with group.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (7)")
    assert committed(path) == [7]
    with pytest.raises(KeyError), group.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (8)")
        raise KeyError("no")
    assert committed(path) == [7]
    assert statements.count("COMMIT") == 1
