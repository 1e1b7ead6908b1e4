"""benchmarks/bench_generator.py still runs end to end, and the seat-race history it reports is complete."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import run_benchmark

pytestmark = pytest.mark.slow


def test_one_short_round_runs_the_three_generators_and_the_history_holds_every_request() -> None:
    out = run_benchmark("bench_generator.py", "--seconds", "2", "--users", "5", "--jitters", "0.05", "--rounds", "1")
    for name in ("leasecheck seat-race", "plain, same traffic", "plain cycle, paced"):
        assert re.search(rf"{re.escape(name)}\s+[0-9.]+ req/s.*\(exit [01]\)", out), f"{name} not measured:\n{out}"
    recorded = re.search(r"recorded: (\d+) operations in the seat-race history for (\d+) requests", out)
    assert recorded, out
    ops, requests = int(recorded.group(1)), int(recorded.group(2))
    assert requests > 0 and ops >= requests, recorded.group(0)
    assert re.search(r"median ratios \(same traffic / paced cycle\): [0-9.]+x / [0-9.]+x", out), out


def _history(tmp_path: Path, counts: list[int]) -> Path:
    """A locust per-second history CSV whose Aggregated row counts grow as given."""
    path = tmp_path / "run" / "locust_stats_history.csv"
    path.parent.mkdir()
    lines = ["Timestamp,Name,Total Request Count"]
    lines += [f"{1000 + i},Aggregated,{n}" for i, n in enumerate(counts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _steady_window() -> Callable[[Path], Any]:
    import importlib.util
    import sys

    from .conftest import BENCHMARKS

    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("bench_generator", BENCHMARKS / "bench_generator.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    steady: Callable[[Path], Any] = module.steady_window
    return steady


def test_the_steady_window_trims_a_second_at_each_end_of_a_long_run(tmp_path: Path) -> None:
    assert _steady_window()(_history(tmp_path, [0, 10, 30, 50, 70, 80, 80])) == (1002.0, 30, 1004.0, 70)


def test_a_short_run_on_a_loaded_machine_still_gives_an_untrimmed_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _steady_window()(_history(tmp_path, [0, 0, 20, 45, 45])) == (1002.0, 20, 1003.0, 45)
    assert "not trimmed" in capsys.readouterr().out


def test_one_busy_second_is_too_few_to_give_a_rate(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="too few seconds"):
        _steady_window()(_history(tmp_path, [0, 30, 30]))
