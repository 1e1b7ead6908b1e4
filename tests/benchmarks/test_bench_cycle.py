"""benchmarks/bench_cycle.py still runs end to end: every target measured, the decomposition printed."""

from __future__ import annotations

import re

import pytest

from .conftest import run_benchmark

pytestmark = pytest.mark.slow


def test_one_short_round_measures_every_target_and_prints_the_decomposition() -> None:
    out = run_benchmark("bench_cycle.py", "--seconds", "0.3", "--rounds", "1", "--clients", "2")
    (round_line,) = [line for line in out.splitlines() if line.startswith("round 1 ")]
    rates = dict(re.findall(r"(\S+)\s+([0-9.]+) req/s", round_line))
    assert set(rates) == {"trivial", "stack", "lease", "logic", "logic-1"}, round_line
    assert all(float(r) > 0 for r in rates.values()), round_line
    assert "a lease request's CPU (medians, ms): bare stack" in out
    assert re.search(r"would reach [0-9.]+x the trivial rate", out), out
    assert "did not get a lease" not in out, out  # every lease cycle was granted
