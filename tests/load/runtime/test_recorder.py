"""The recorder's shard: written whole at each end of a run, the history only when it changed."""

from __future__ import annotations

import json
from pathlib import Path

from leasecheck.core.client import CHECKIN, Exchange
from leasecheck.load.runtime.recorder import Recorder


def checkin(t: float) -> Exchange:
    return Exchange("POST", CHECKIN, {}, b"{}", sent_at=t, received_at=t + 0.01, status=200, operation="checkin")


def test_a_second_dump_rewrites_the_history_only_if_it_grew(tmp_path: Path):
    rec = Recorder("local-1", "local")
    rec.attempt(checkin(1.0), license="l", label="checkin", outcome="ok", user="u")
    rec.dump(tmp_path)
    history = tmp_path / "local-1.history.jsonl"
    history.write_text("stale\n", encoding="utf-8")  # a rewrite would replace this
    rec.mark("late", 2.0)
    rec.dump(tmp_path)  # nothing new in the history: only the metrics are written again
    assert history.read_text(encoding="utf-8") == "stale\n"
    assert json.loads((tmp_path / "local-1.metrics.json").read_text(encoding="utf-8"))["marks"][0]["kind"] == "late"
    rec.attempt(checkin(3.0), license="l", label="checkin", outcome="ok", user="u")
    rec.dump(tmp_path)
    lines = history.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["sent_at"] for line in lines] == [1.0, 3.0]
