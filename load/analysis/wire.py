"""A worker's history as it travels and as the master keeps it: packed rows.

Why this shape: a million ops from eight workers must be merged and judged
within the checker's own budget (benchmarks/bench_merge.py), and JSON costs
more per op than the checker does. So a worker packs each batch of ops once
(msgpack, each op a row of its `Op` fields in declaration order); the master
never unpacks a row while the run goes on, it appends the bytes to the
worker's shard `<tag>.history.msgpack` behind a one-line header naming the
fields; the judge unpacks each shard once (in C) and builds each Op from its
row positionally. A shard written by another version whose fields differ is
still read, by name.

A shard that cannot be read as written (damaged, cut off, or not one
leasecheck wrote) is a `ShardError` naming the file: shards are copied
between machines, and `load --judge` must refuse one, never judge part of it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import starmap
from pathlib import Path

import msgpack

from leasecheck.core.history import OP_FIELDS, History, Op, op_row

from .bulk import paused_gc

#: An Op as a row: its fields in declaration order (`core.history.OP_FIELDS`).
FIELDS = OP_FIELDS
SUFFIX = ".history.msgpack"
JSONL_SUFFIX = ".history.jsonl"  # a shard a process wrote itself (`History.dump`)


class ShardError(ValueError):
    """A shard that cannot be judged as it is on disk; the message names the file and why."""


def encode_rows(ops: Sequence[Op]) -> bytes:
    """One batch as it travels and as it is stored: a msgpack array of rows."""
    return bytes(msgpack.packb(list(map(op_row, ops))))


def header(names: Sequence[str] = FIELDS) -> bytes:
    """What a packed shard starts with: the names of its rows' fields (the sender's)."""
    return bytes(msgpack.packb({"fields": list(names)}))


def read_ops(path: Path) -> list[Op]:
    """A packed shard's ops, in the order they were recorded."""
    try:
        return _read_ops(path)
    except (msgpack.UnpackException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ShardError(f"{path.name} is not a readable history ({type(exc).__name__}: {exc})") from None


def _read_ops(path: Path) -> list[Op]:
    with path.open("rb") as fh, paused_gc():
        batches = msgpack.Unpacker(fh, raw=False, use_list=False)  # rows as tuples: cheaper than lists
        head = next(batches, None)
        if head is None:
            return []
        names = tuple(head["fields"])
        if names == FIELDS:
            return [op for rows in batches for op in starmap(Op, rows)]
        known = set(FIELDS)
        return [
            Op(**{k: v for k, v in zip(names, row, strict=False) if k in known}) for rows in batches for row in rows
        ]


def shard_history(tag_path: Path) -> Path | None:
    """The history file beside a shard's metrics (`<tag>.metrics.json`): the one its
    metrics' writer wrote. The master writes a worker's packed history and says
    how much arrived (`stream`); a process writes its own as JSON lines. Both are
    there when a worker the master gave up on dumps its own history at the end
    (`--processes`, one directory): its metrics, written last, say which is whole."""
    stem = tag_path.name.removesuffix(".metrics.json")
    packed, lines = tag_path.with_name(stem + SUFFIX), tag_path.with_name(stem + JSONL_SUFFIX)
    if packed.exists() and lines.exists():
        try:
            by_master = "stream" in json.loads(tag_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            by_master = True  # unreadable metrics are refused when they are read
        return packed if by_master else lines
    return packed if packed.exists() else lines if lines.exists() else None


def load_ops(path: Path) -> list[Op]:
    """Either kind of history file."""
    if path.name.endswith(SUFFIX):
        return read_ops(path)
    try:
        with paused_gc():
            return History.load(path).ops
    except UnicodeDecodeError:
        raise ShardError(f"{path.name} is not a readable history: not UTF-8 text") from None
    except ValueError as exc:  # History.load names the file and the line
        raise ShardError(str(exc)) from None
