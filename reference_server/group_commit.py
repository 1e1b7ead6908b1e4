"""Group commit: the write transactions of one process share one COMMIT when they queue.

With `synchronous=FULL` every COMMIT waits for an fsync (about 2 to 5 ms on
the project's VM), and writers are serialised, so a worker could never
commit more than a few hundred transactions a second however little each
one did, and requests queued behind one another's fsyncs. Here the writers
of one process run on one connection, one after another as before, each
inside a SAVEPOINT of a shared `BEGIN IMMEDIATE` transaction. A writer that
finishes while others are queued for the connection leaves the transaction
open for them and waits; the last one of the queue commits for all of them.

What does not change: each operation still runs alone, seeing every earlier
one's effects (seat counts stay serialised), an operation that raises is
rolled back alone (its savepoint), and no writer returns, so no answer is
sent, before the COMMIT that holds its work has reached the disk: an
acknowledged lease still survives SIGKILL and power loss. Worker processes
are still serialised by SQLite's write lock. Readers on other connections
see a batch only once it is committed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

#: Most operations one COMMIT carries (bounds the latency the first of them waits for).
MAX_BATCH = 64
#: How often a writer waiting for its batch's COMMIT checks that someone is still going to do it.
ORPHAN_CHECK_SECONDS = 1.0


class _Batch:
    """One open transaction and the operations it holds."""

    def __init__(self) -> None:
        self.members = 0
        self.done = threading.Event()  # set once committed (or rolled back): wakes this batch's writers only
        self.error: BaseException | None = None


class GroupCommit:
    """Serialised write transactions of one process on one connection, committed in groups."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], lock_timeout: float) -> None:
        self._connect = connect
        self._conn: sqlite3.Connection | None = None
        self._lock_timeout = lock_timeout
        self._lock = threading.Lock()  # the connection and the open batch
        self._state = threading.Lock()  # `_queued`
        self._queued = 0
        self._batch: _Batch | None = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One operation: its statements run alone on the connection; returns once committed."""
        with self._state:
            self._queued += 1
        acquired = self._lock.acquire(timeout=self._lock_timeout)
        with self._state:
            self._queued -= 1
        if not acquired:
            raise sqlite3.OperationalError("database is locked")
        try:
            conn = self._open()
        except BaseException:
            self._lock.release()
            raise
        batch = self._batch
        assert batch is not None
        try:
            conn.execute("SAVEPOINT op")
            yield conn
        except BaseException:
            self._undo(conn, batch)
            self._finish(conn, batch, joined=False)
            raise
        # No RELEASE: the savepoint stays open until the batch's COMMIT ends them all (a
        # statement less per operation); a later operation's ROLLBACK TO names its own,
        # the most recent "op", so it still undoes that operation alone.
        self._finish(conn, batch, joined=True)

    def _open(self) -> sqlite3.Connection:
        """The connection, with a batch open on it (holding the lock)."""
        if self._conn is None:
            self._conn = self._connect()
        if self._batch is None:
            self._conn.execute("BEGIN IMMEDIATE")
            self._batch = _Batch()
        return self._conn

    def _undo(self, conn: sqlite3.Connection, batch: _Batch) -> None:
        """Roll back one operation; if SQLite has dropped the whole transaction, the batch failed."""
        try:
            if not conn.in_transaction:
                raise sqlite3.OperationalError("the transaction was rolled back")
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
        except BaseException as exc:
            batch.error = batch.error or exc

    def _finish(self, conn: sqlite3.Connection, batch: _Batch, *, joined: bool) -> None:
        """Leave the batch to the next queued writer, or commit it; release the lock; for an
        operation that joined the batch, return only once it is committed."""
        if joined and batch.error is None:
            batch.members += 1
        with self._state:
            pass_on = self._queued > 0 and batch.error is None and batch.members < MAX_BATCH
        if pass_on:
            self._lock.release()
        else:
            self._commit(conn, batch)
        if joined:
            self._wait(conn, batch)

    def _commit(self, conn: sqlite3.Connection, batch: _Batch) -> None:
        """COMMIT (or ROLLBACK) the open batch and wake its writers; holding the lock, releasing it."""
        try:
            if batch.error is None and batch.members:
                conn.execute("COMMIT")
            elif conn.in_transaction:
                conn.execute("ROLLBACK")
        except BaseException as exc:
            batch.error = batch.error or exc
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
        finally:
            self._batch = None
            batch.done.set()
            self._lock.release()

    def _wait(self, conn: sqlite3.Connection, batch: _Batch) -> None:
        """Until `batch` is committed; raise if it was not. A batch whose next writer gave up
        waiting for the lock would stay open: a waiter that finds the lock free commits it."""
        while not batch.done.wait(ORPHAN_CHECK_SECONDS):
            if self._lock.acquire(blocking=False):
                if self._batch is batch:
                    self._commit(conn, batch)
                else:
                    self._lock.release()
        if batch.error is not None:
            raise sqlite3.OperationalError(f"the write was not committed: {batch.error}") from batch.error
