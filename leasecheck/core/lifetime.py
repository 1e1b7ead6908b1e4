"""A child process that dies with its parent (Linux), so nothing we start outlives a hard kill.

`kill -9` of a conformance run, a load run or a test gives its children no
chance to be stopped: the bundled server, its uvicorn workers and locust would
run on, holding ports and, against a target, sending load. Linux's
PR_SET_PDEATHSIG asks the kernel to send SIGTERM when the parent dies; each
child asks for it first thing (as a `preexec_fn`, or at a worker's start).
Elsewhere this does nothing.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """SIGTERM this process when its parent dies. Given `parent_pid` (the parent as it was
    before the fork), exit at once if that parent is already gone (the request came too late)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(0)
