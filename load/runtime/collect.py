"""The master's side of streaming: every worker's ops and metrics, written as its shard.

The master appends each worker's packed batches to `<tag>.history.msgpack`
as they arrive, bytes as they came (`analysis/wire.py`: a long run never
sits in the master's memory, and the master unpacks no row), and writes
`<tag>.metrics.json` when the worker's `DONE` arrives, with a `stream`
record: ops sent (the worker's count) against ops received (the master's).
At the end (`collect`, from the master's test_stop, before locust lets it
exit) it sends `FLUSH` and waits until every worker that was there at test
start has answered or is gone. A gone worker (killed, disconnected, or
silent past the deadline) still gets a shard: what arrived, with
`complete: false` and why, so the judge names it and marks the run partial.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import gevent

from leasecheck.load.analysis.wire import FIELDS, SUFFIX, header

from .recorder import Recorder, write_metrics
from .stream import DONE, FLUSH, OPS

log = logging.getLogger("leasecheck.load")
#: How long the master waits at the end for the workers' last ops.
FLUSH_TIMEOUT = 60.0


@dataclass
class Inbox:
    """What one worker delivered."""

    client: str
    index: int
    tag: str = ""
    pid: int = 0
    received: int = 0
    announced: int = 0  # the highest op count its messages claimed so far
    gaps: int = 0  # messages that did not start where the last one ended
    done: dict[str, Any] | None = None
    fh: IO[bytes] | None = field(default=None, repr=False)

    def open(self, shard_dir: Path, fields: Any = FIELDS) -> IO[bytes]:
        """The worker's packed shard, begun with the names of its rows' fields."""
        if self.fh is None:
            self.fh = (shard_dir / f"{self.tag}{SUFFIX}").open("wb")
            self.fh.write(header(fields))
        return self.fh


class Collector:
    """One per master process."""

    def __init__(self) -> None:
        self.shard_dir: Path | None = None
        self.inboxes: dict[str, Inbox] = {}
        self.collected = False

    def register(self, runner: Any) -> None:
        runner.register_message(OPS, self._on_ops)
        runner.register_message(DONE, self._on_done)

    def begin(self, shard_dir: Path, runner: Any) -> None:
        """At test start: the workers expected to deliver."""
        self.close()
        self.shard_dir, self.collected = shard_dir, False
        shard_dir.mkdir(parents=True, exist_ok=True)
        self.inboxes = {cid: Inbox(cid, runner.get_worker_index(cid)) for cid in list(runner.clients.keys())}

    def _inbox(self, client: str) -> Inbox:
        if client not in self.inboxes:  # joined after test start
            self.inboxes[client] = Inbox(client, -1)
        return self.inboxes[client]

    def _receive(self, msg: Any) -> Inbox | None:
        """The sender's inbox, or None once the run is collected (then the message is logged)."""
        if self.shard_dir is None:
            self._late(msg)
            return None
        return self._inbox(msg.node_id)

    def _on_ops(self, environment: Any, msg: Any, **_: Any) -> None:
        box, data = self._receive(msg), msg.data
        if box is None or self.shard_dir is None:
            return
        if box.fh is None:
            box.tag, box.pid = str(data["tag"]), int(data["pid"])
        box.open(self.shard_dir, data["fields"]).write(data["rows"])
        count, first = int(data["count"]), int(data["first"])
        if first != box.announced:
            box.gaps += 1
        box.announced = max(box.announced, first + count)
        box.received += count

    def _on_done(self, environment: Any, msg: Any, **_: Any) -> None:
        box = self._receive(msg)
        if box is None or self.shard_dir is None:
            return
        data = box.done = msg.data
        box.tag = box.tag or str(data["tag"])
        if data.get("local"):  # LEASECHECK_LOAD_TRANSPORT=shards: the worker wrote its own shard
            return
        box.open(self.shard_dir).flush()  # a worker that recorded nothing still delivers an (empty) history
        doc = dict(data["metrics"])
        doc["ops"] = box.received
        doc["stream"] = self._account(box, sent=int(data["sent"]), lost=None)
        write_metrics(self.shard_dir, box.tag, doc)

    def _account(self, box: Inbox, *, sent: int, lost: str | None) -> dict[str, Any]:
        return {
            "worker_index": box.index,
            "sent": sent,
            "received": box.received,
            "gaps": box.gaps,
            "complete": lost is None and box.received == sent and box.gaps == 0,
            "lost": lost,
        }

    def collect(self, runner: Any, timeout: float = FLUSH_TIMEOUT) -> None:
        """Ask every worker for the rest; wait for each answer or its departure."""
        if self.shard_dir is None or self.collected:
            return
        self.collected = True
        for cid in list(runner.clients.keys()):
            runner.send_message(FLUSH, None, client_id=cid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(
            b.done is None and _connected(runner, b.client) for b in self.inboxes.values()
        ):
            gevent.sleep(0.05)
        for box in self.inboxes.values():
            if box.done is None:
                gone = "disconnected" if not _connected(runner, box.client) else f"silent for {timeout:g} s at the end"
                self._write_lost(box, gone)
        self.close()
        self.shard_dir = None  # what arrives later is past the verdict: logged, never written

    def _late(self, msg: Any) -> None:
        rows = int(msg.data.get("count", 0)) if isinstance(msg.data, dict) else 0
        log.warning("leasecheck: %s from worker %s after the end (%d ops): not judged", msg.type, msg.node_id, rows)

    def _write_lost(self, box: Inbox, why: str) -> None:
        assert self.shard_dir is not None
        box.tag = box.tag or f"worker-w{box.index}-lost"
        box.open(self.shard_dir)
        doc = Recorder(box.tag, "worker").metrics()
        doc["pid"], doc["ops"] = box.pid, box.received
        doc["stream"] = self._account(box, sent=box.announced, lost=why)
        write_metrics(self.shard_dir, box.tag, doc)
        log.warning(
            "leasecheck: worker %s (index %s) %s: %d ops arrived; the run is judged on what arrived",
            box.client,
            box.index,
            why,
            box.received,
        )

    def close(self) -> None:
        for box in self.inboxes.values():
            if box.fh is not None:
                box.fh.close()
                box.fh = None


def _connected(runner: Any, client: str) -> bool:
    node = runner.clients.get(client)
    return node is not None and node.state != "missing"
