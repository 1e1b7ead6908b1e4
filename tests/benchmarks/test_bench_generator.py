"""benchmarks/bench_generator.py still runs end to end, and the seat-race history it reports is complete."""

from __future__ import annotations

import re

import pytest

from .conftest import run_benchmark

pytestmark = pytest.mark.slow


def test_one_short_round_runs_the_three_generators_and_the_history_holds_every_request() -> None:
    out = run_benchmark("bench_generator.py", "--seconds", "1", "--users", "5", "--jitters", "0.05", "--rounds", "1")
    for name in ("leasecheck seat-race", "plain, same traffic", "plain cycle, paced"):
        assert re.search(rf"{re.escape(name)}\s+[0-9.]+ req/s.*\(exit [01]\)", out), f"{name} not measured:\n{out}"
    recorded = re.search(r"recorded: (\d+) operations in the seat-race history for (\d+) requests", out)
    assert recorded, out
    ops, requests = int(recorded.group(1)), int(recorded.group(2))
    assert requests > 0 and ops >= requests, recorded.group(0)
    assert re.search(r"median ratios \(same traffic / paced cycle\): [0-9.]+x / [0-9.]+x", out), out
