"""Parts judged in forked processes give the verdict one process gives."""

from __future__ import annotations

import os

import pytest

from leasecheck.core.model import check_history
from leasecheck.core.model.parallel import MIN_OPS, default_workers, run
from leasecheck.core.model.simulate import Workload, simulate


def _pid(_part: int) -> int:
    return os.getpid()


def test_the_first_part_runs_here_and_the_others_in_children():
    pids = run(_pid, [0, 1, 2])
    assert pids[0] == os.getpid() and len(set(pids)) == 3


def _fail(part: int) -> int:
    if part:
        raise ValueError("boom")
    return 0


def test_a_failing_child_fails_the_run_with_its_traceback():
    with pytest.raises(RuntimeError, match="boom"):
        run(_fail, [0, 1])


def test_small_histories_stay_in_one_process():
    assert default_workers(MIN_OPS - 1) == 1


@pytest.mark.parametrize("faults", [frozenset({"over_grant", "cross_license"}), frozenset({"leaky_checkin"})])
def test_two_processes_find_what_one_finds(faults: frozenset[str]):
    workload = Workload(licenses=6, duration=40, p_foreign_token=0.05, p_status=1.0)
    h = simulate(workload, 3, faults=faults)
    one, two = check_history(h, workers=1), check_history(h, workers=2)
    assert not one.ok
    assert one.counts == two.counts
    assert [v.to_json() for v in one.violations] == [v.to_json() for v in two.violations]
