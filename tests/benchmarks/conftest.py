"""The benchmarks are scripts, not modules of the package: these helpers run one as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_benchmark(script: str, *args: str, timeout: float = 240.0) -> str:
    """Run `benchmarks/<script>` with the smallest arguments that exercise every part of it;
    its stdout. A benchmark prints numbers and never fails on speed, so a non-zero exit is
    a broken benchmark, and the test says why."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=BENCHMARKS,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout
