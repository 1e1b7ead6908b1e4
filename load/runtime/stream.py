"""A worker's history travels to the master over locust's own messaging.

Why: the master must hold every worker's ops before it exits, on one machine
(`--processes`, where a worker still writing its shard file after the master
had exited once made a complete run look empty) and on many (where nobody
should have to copy shard files by hand). A worker sends its new ops every
`INTERVAL` seconds in messages of at most `BATCH_OPS` rows, so a fast run
sends a steady trickle of bounded messages instead of one huge one at the
end; zmq's send queue gives back-pressure if the master falls behind. Each
batch is packed once, here (`analysis/wire.py`): the master stores the bytes
as they came and never unpacks a row while the run goes on.

At the end the master sends `FLUSH`; the worker stops its users (as locust's
own stop does), sends what is left and then `DONE` with its metrics and the
number of ops it sent, so the master can say, per worker, sent vs received.

`LEASECHECK_LOAD_TRANSPORT=shards` keeps the old way for comparison (the
benchmark): the worker writes its shard file at `FLUSH` and answers `DONE`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gevent
from gevent.lock import Semaphore

from leasecheck.load.analysis.wire import FIELDS, encode_rows

from .recorder import Recorder

OPS, DONE, FLUSH = "leasecheck:ops", "leasecheck:done", "leasecheck:flush"
#: Most ops in one message (about 200 bytes each on the wire).
BATCH_OPS = 2000
#: Seconds between two sends of what was recorded meanwhile.
INTERVAL = 0.5
TRANSPORT_ENV = "LEASECHECK_LOAD_TRANSPORT"


def streaming() -> bool:
    return os.environ.get(TRANSPORT_ENV, "stream") != "shards"


def batch(tag: str, first: int, ops: list[Any]) -> dict[str, Any]:
    """One OPS message's data: ops `first`.. of the worker's history, packed."""
    return {
        "tag": tag,
        "pid": os.getpid(),
        "first": first,
        "count": len(ops),
        "fields": FIELDS,
        "rows": encode_rows(ops),
    }


class Streamer:
    """One worker's sender: new ops every INTERVAL, the rest and its metrics at FLUSH."""

    def __init__(self, runner: Any, recorder: Recorder) -> None:
        self.runner = runner
        self.recorder = recorder
        self.sent = 0
        self.done = False
        self._lock = Semaphore()
        self._loop: gevent.Greenlet | None = None

    def start(self, recorder: Recorder) -> None:
        """At test start: a fresh recorder, counting from zero."""
        self.recorder, self.sent, self.done = recorder, 0, False
        if self._loop is None and streaming():
            self._loop = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            gevent.sleep(INTERVAL)
            if not self.done:
                self.send_pending()

    def send_pending(self) -> None:
        with self._lock:
            ops = self.recorder.history.ops
            while self.sent < len(ops):
                chunk = ops[self.sent : self.sent + BATCH_OPS]
                self.runner.send_message(OPS, batch(self.recorder.tag, self.sent, chunk))
                self.sent += len(chunk)
                gevent.sleep(0)  # let the users run between two batches

    def finish(self, local_dir: Path) -> None:
        """The master asked for the end: stop the users, hand over everything."""
        if self.done:
            return
        self.runner.user_greenlets.kill(block=True)  # users record their in-flight request as cancelled
        if streaming():
            self.send_pending()
            local = False
        else:
            self.recorder.dump(local_dir)
            local = True
        self.done = True
        doc = self.recorder.metrics()
        self.runner.send_message(
            DONE, {"tag": self.recorder.tag, "sent": self.sent, "ops": doc["ops"], "local": local, "metrics": doc}
        )
