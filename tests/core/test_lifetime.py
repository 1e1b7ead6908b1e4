"""lifetime: a child that asked to die with its parent is gone soon after the parent is
SIGKILLed; one that did not ask outlives it (the control: the test can fail)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

PARENT = """
import subprocess, sys, time
from leasecheck.core.lifetime import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                         preexec_fn=die_with_parent if sys.argv[1] == "ask" else None)
print(child.pid, flush=True)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("asks", [True, False], ids=["asks", "control"])
def test_a_child_dies_with_its_hard_killed_parent_only_when_it_asked(asks):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, "ask" if asks else "no"], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + (10 if asks else 1)  # SIGTERM comes at once, or never
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(child) is asks
    finally:
        if not _gone(child):
            os.kill(child, signal.SIGKILL)
