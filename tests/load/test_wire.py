"""A worker's history on the wire and in the master's shard (`load/analysis/wire.py`).

The master stores each packed batch as it came; the judge must read back
exactly the ops the worker recorded, in order, whatever the batches were,
and read a shard whose sender had other fields by name.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import msgpack
import pytest

from leasecheck.core.history import Op
from leasecheck.load.analysis.wire import (
    FIELDS,
    JSONL_SUFFIX,
    SUFFIX,
    ShardError,
    encode_rows,
    header,
    load_ops,
    read_ops,
)


def _ops(n: int) -> list[Op]:
    return [
        Op("checkout", "L", 1.0 + i, 1.5 + i, 200 if i % 3 else None, lease=f"llt_…#{i:04x}", expires_at=9.0 + i,
           server_time=1.2 + i, worker=f"w0:u{i % 4}", seats=None, timeout=None, error_code=None if i % 3 else "x")
        for i in range(n)
    ]  # fmt: skip


def test_packed_batches_read_back_as_the_ops_recorded(tmp_path: Path):
    ops = _ops(25)
    path = tmp_path / f"worker-w0-1{SUFFIX}"
    path.write_bytes(header() + b"".join(encode_rows(ops[i : i + 7]) for i in range(0, 25, 7)))
    back = read_ops(path)
    assert [asdict(o) for o in back] == [asdict(o) for o in ops]
    assert load_ops(path) == back


def test_a_shard_from_a_sender_with_other_fields_is_read_by_name(tmp_path: Path):
    names = ["license", "kind", "sent_at", "received_at", "status", "a_field_from_the_future"]
    rows = [["L", "heartbeat", 2.0, 2.1, 200, "?"]]
    path = tmp_path / f"w{SUFFIX}"
    path.write_bytes(header(names) + msgpack.packb(rows))
    (op,) = read_ops(path)
    assert (op.kind, op.license, op.sent_at, op.status, op.lease) == ("heartbeat", "L", 2.0, 200, None)


def test_an_empty_shard_has_no_ops(tmp_path: Path):
    path = tmp_path / f"w{SUFFIX}"
    path.write_bytes(header())
    assert read_ops(path) == [] and len(FIELDS) == len(asdict(_ops(1)[0]))


def test_a_damaged_packed_shard_is_a_shard_error_naming_the_file(tmp_path: Path):
    """It was a bare TypeError or msgpack error, which `load --judge` reported as its own bug."""
    rows = msgpack.packb([list(asdict(op).values()) for op in _ops(2)])
    damaged = {
        "garbage": b"\xc1 not msgpack",  # 0xc1 is never used in msgpack: a FormatError
        "no-header": msgpack.packb([1, 2]) + rows,
        "short-rows": header() + msgpack.packb([[1, 2]]),
    }
    for name, data in damaged.items():
        path = tmp_path / f"{name}{SUFFIX}"
        path.write_bytes(data)
        with pytest.raises(ShardError, match=rf"{name}\.history\.msgpack is not a readable history"):
            read_ops(path)


def test_a_damaged_jsonl_shard_names_its_line(tmp_path: Path):
    path = tmp_path / f"w{JSONL_SUFFIX}"
    path.write_text(
        '{"kind": "checkout", "license": "L", "sent_at": 1.0, "received_at": 1.1, "status": 200}\n{"kind": "chec'
    )
    with pytest.raises(ShardError, match=r"w\.history\.jsonl, line 2: not an operation"):
        load_ops(path)
    path.write_bytes(b"\xff\xfe\n")
    with pytest.raises(ShardError, match="not UTF-8 text"):
        load_ops(path)
