"""Acceptance 3: with two locust worker processes the histories and the
latency histograms are merged, and the merged counts equal the sums over the
processes; merged percentiles are the percentiles of all samples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram

from leasecheck.core.client import Exchange
from leasecheck.core.timeutil import format_rfc3339
from leasecheck.load.analysis.shards import merge, read_histories
from leasecheck.load.analysis.wire import ShardError
from leasecheck.load.runtime.recorder import Recorder

SECRET = re.compile(r"\b(lk|llt)_[A-Za-z0-9_\-]{20,}")


def test_two_worker_processes_merge_to_the_sum(server, load_run):
    run = load_run("seat-race", "--users", "16", "--duration", "4s", "--processes", "2", server=server)
    run.assert_passed_or_generator_bound()
    s = run.summary
    m = s["merge"]
    workers = [sh for sh in m["shards"] if sh["role"] == "worker"]
    assert len(workers) == 2 and all(sh["ops"] > 0 for sh in workers), m
    assert m["history_ops"] == m["sum_of_shard_ops"] == sum(sh["ops"] for sh in m["shards"])
    assert m["latency_samples"] == m["sum_of_shard_latency_samples"]
    # locust's master counted the same requests on its own (its last worker report may trail)
    assert m["locust_request_count"] is not None
    assert 0 < m["locust_request_count"] <= m["attempts_sent"] - m["attempts_cancelled_at_stop"]

    # The merged history is the union of both workers' histories, and the merged
    # histograms' percentiles are the exact percentiles of every op in it.
    merged = [op for _tag, ops in read_histories(run.out / "shards") for op in ops]
    assert len(merged) == m["history_ops"]
    assert {op.worker.split(":")[0] for op in merged if op.worker} == {"w0", "w1"}
    whole = s["latency_ms_whole_run"]
    for kind in ("checkout", "checkin"):
        exact = sorted(
            (op.received_at - op.sent_at) * 1000 for op in merged if op.kind == kind and op.status is not None
        )
        assert whole[kind]["count"] == len(exact) > 0
        for q in (50, 99):
            want = exact[max(1, int(q / 100 * len(exact) + 0.5)) - 1]  # HdrHistogram's rank
            assert abs(whole[kind][f"p{q}"] - want) <= want * 0.01 + 0.002, (kind, q, whole[kind], want)

    # Nothing secret anywhere in what the run wrote
    for path in run.out.rglob("*"):
        if path.is_file():
            text = path.read_text("utf-8", "replace")
            assert server.management_token not in text, path
            assert not SECRET.search(text), (path, SECRET.search(text))


def test_shards_merge_exactly(tmp_path: Path):
    """Unit level: two recorders, one merge; histograms add, ops concatenate."""
    recs = [Recorder(f"worker-{i}", "worker") for i in range(2)]
    for i, rec in enumerate(recs):
        rec.meta = {"epoch": 1000.0, "end": 1010.0}
        for n in range(50 * (i + 1)):
            sent = 1000.0 + n * 0.01
            ex = Exchange(
                "POST",
                "/api/v1/license/floating/heartbeat",
                {},
                b"{}",
                sent_at=sent,
                received_at=sent + 0.001 * (n + 1),
                status=200,
                operation="heartbeat",
            )
            rec.attempt(ex, license="L", label="heartbeat", outcome="ok", user=f"w{i}:u0", lease_token="llt_x")
            rec.logical("heartbeat", "ok", 1, t=ex.received_at)
        rec.dump(tmp_path)
    run = merge(tmp_path)
    assert len(run.history) == 150 == sum(s.ops for s in run.shards)
    total = HdrHistogram(1, 60_000_000, 3)
    for rec in recs:
        total.add(rec.latency["heartbeat"])
    assert run.latency["heartbeat"].get_total_count() == 150
    assert run.latency["heartbeat"].get_value_at_percentile(99) == total.get_value_at_percentile(99)
    assert sum(c["ok"] for b in run.buckets.values() for mb in b.values() for c in [mb.logical]) == 150
    assert json.loads((tmp_path / "worker-0.metrics.json").read_text())["ops"] == 50


def _skewed_recorder(tag: str, skew: float) -> Recorder:
    """Heartbeats every 0.1 s over real seconds 1000-1005, recorded on a clock `skew` ahead;
    each answer's meta.timestamp is on the server's (real) clock."""
    rec = Recorder(tag, "worker")
    rec.meta = {"epoch": 1000.0, "end": 1005.0}
    for n in range(50):
        real = 1000.0 + n * 0.1 + 0.01
        body = json.dumps({"data": {}, "meta": {"timestamp": format_rfc3339(real + 0.002)}}).encode()
        ex = Exchange("POST", "/api/v1/license/floating/heartbeat", {}, b"{}", sent_at=real + skew,
                      received_at=real + 0.004 + skew, status=200, operation="heartbeat", response_body=body)  # fmt: skip
        rec.attempt(ex, license="L", label="heartbeat", outcome="ok", user=f"{tag}:u0", lease_token="llt_x")
        rec.logical("heartbeat", "ok", 1, t=ex.received_at)
    rec.cpu = [(1000.5 + skew + s, 10.0) for s in range(5)]
    return rec


def test_per_second_buckets_and_samples_move_with_their_process_clock(tmp_path: Path):
    """A worker 3 s ahead: its seconds, CPU samples and ops land on the server's seconds
    with the other worker's, so the window the run is judged over holds both."""
    for rec in (_skewed_recorder("worker-w0-1", 0.0), _skewed_recorder("worker-w1-2", 3.0)):
        rec.dump(tmp_path)
    run = merge(tmp_path)
    assert run.clocks.aligned
    assert sorted(run.buckets) == [1000, 1001, 1002, 1003, 1004]
    assert all(sum(mb.logical["ok"] for mb in b.values()) == 20 for b in run.buckets.values())
    skewed = next(s for s in run.shards if s.tag == "worker-w1-2")
    assert [round(t, 1) for t, _ in skewed.cpu] == [1000.5, 1001.5, 1002.5, 1003.5, 1004.5]
    assert abs(run.clocks.plan_offset + 1.5) < 0.01  # the plan's instants: the workers' median clock


def _two_shards(shard_dir: Path) -> None:
    for i in range(2):
        rec = Recorder(f"worker-{i}", "worker")
        rec.meta = {"epoch": 1000.0, "end": 1010.0}
        for n in range(10):
            ex = Exchange("POST", "/api/v1/license/floating/heartbeat", {}, b"{}", sent_at=1000.0 + n,
                          received_at=1000.1 + n, status=200, operation="heartbeat")  # fmt: skip
            rec.attempt(ex, license="L", label="heartbeat", outcome="ok", user=f"w{i}:u0", lease_token="llt_x")
        rec.dump(shard_dir)


def test_a_shard_cut_off_or_missing_its_history_is_refused_not_judged_in_part(tmp_path: Path):
    """A history cut at a line's end read as a shorter, valid history: the run was judged
    PASSED on the ops that survived the copy, with the metrics counting all of them."""
    _two_shards(tmp_path)
    history = tmp_path / "worker-1.history.jsonl"
    lines = history.read_text().splitlines(keepends=True)
    history.write_text("".join(lines[:4]))
    with pytest.raises(ShardError, match=r"worker-1\.metrics\.json says 10 ops were recorded, but its history holds 4"):
        merge(tmp_path)
    history.unlink()
    with pytest.raises(ShardError, match="says 10 ops were recorded, but there is no history file beside it"):
        merge(tmp_path)


def test_metrics_that_are_no_shards_are_refused_by_name(tmp_path: Path):
    _two_shards(tmp_path)
    metrics = tmp_path / "worker-0.metrics.json"
    doc = json.loads(metrics.read_text())
    for damaged, says in (
        ("{", "worker-0.metrics.json is not JSON"),
        (json.dumps({k: v for k, v in doc.items() if k != "latency"}), "field 'latency' is missing"),
        (json.dumps({**doc, "pid": "a pid"}), "ValueError: invalid literal"),
    ):
        metrics.write_text(damaged)
        with pytest.raises(ShardError) as raised:
            merge(tmp_path)
        assert says in str(raised.value), raised.value


def test_a_lost_workers_own_dump_beside_the_masters_partial_copy_is_judged_whole(tmp_path: Path):
    """`--processes`: the master gave up on a worker and wrote what arrived (packed, with
    `stream`); the worker then dumped its whole history (JSON lines) and its metrics.
    The packed copy was read against the worker's count and refused as cut off."""
    from leasecheck.load.analysis.wire import SUFFIX, encode_rows, header

    _two_shards(tmp_path)
    whole = merge(tmp_path)
    partial = [op for op in whole.history if op.worker.startswith("w1")][:4]
    (tmp_path / f"worker-1{SUFFIX}").write_bytes(header() + encode_rows(partial))
    run = merge(tmp_path)  # the worker's metrics, written last, name its own JSON lines
    assert len(run.history) == 20 == sum(s.ops for s in run.shards)
    metrics = tmp_path / "worker-1.metrics.json"
    doc = json.loads(metrics.read_text())
    metrics.write_text(json.dumps({**doc, "ops": 4, "stream": {"complete": False, "lost": "silent"}}))
    run = merge(tmp_path)  # the master's metrics, written last, name its packed copy
    assert len(run.history) == 14 and [s.tag for s in run.lost] == ["worker-1"]


def test_a_renamed_shard_is_refused_with_the_name_it_needs(tmp_path: Path):
    """A pair renamed together was refused as "local-1.metrics.json ... no history file
    beside it", naming a file that does not exist; its clock was looked up by a tag no
    history had."""
    _two_shards(tmp_path)
    for suffix in (".metrics.json", ".history.jsonl"):
        (tmp_path / f"worker-1{suffix}").rename(tmp_path / f"machine-b{suffix}")
    with pytest.raises(ShardError, match=r"machine-b\.metrics\.json holds the metrics of 'worker-1'"):
        merge(tmp_path)
