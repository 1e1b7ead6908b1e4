"""progress.py: what a run shows during long waits, on a terminal (a real pty) and off one."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from leasecheck.conformance.progress import waits_text
from leasecheck.core.timeutil import WAITS, poll_until, wait_until

LEASECHECK = [sys.executable, "-m", "leasecheck.cli"]
STATUS = re.compile(rb"(\d+) expiry scenarios? waiting for leases to expire, (\d+) s left")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}


def test_waits_text_names_labelled_waits_and_the_time_left() -> None:
    """A real wait_until in two labelled threads and one unlabelled: the text counts the
    labelled ones and gives the time until the later deadline."""
    now = time.time()
    started = threading.Barrier(4)

    def wait(label: object, seconds: float) -> None:
        if label is not None:
            WAITS.label(label)
        started.wait()
        wait_until(now + seconds)

    threads = [
        threading.Thread(target=wait, args=(("expiry", "leases to expire"), 1.0)),
        threading.Thread(target=wait, args=(("expiry", "leases to expire"), 1.5)),
        threading.Thread(target=wait, args=(None, 1.5)),
    ]
    for t in threads:
        t.start()
    started.wait()
    poll_until(lambda: len(WAITS.snapshot()) == 2, timeout=5.0, what="both labelled threads waiting")
    text = waits_text(now=now)
    for t in threads:
        t.join()
    assert text == "2 expiry scenarios waiting for leases to expire, 2 s left"
    assert waits_text() is None  # nothing waits any more


def test_a_terminal_shows_what_the_run_waits_for_before_the_wait_ends(tmp_path: Path) -> None:
    """In a pty, with 3-second policy minutes so that the expiry waits last seconds: the
    status (what is awaited, the time left, requirements judged) is drawn while the
    expiry scenarios wait, i.e. before the first of them reports a result."""
    pid, fd = pty.fork()
    if pid != 0:  # wide enough for the whole status after pytest's dots
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    if pid == 0:  # the child: the command, on the pty
        os.execve(
            sys.executable,
            [*LEASECHECK, "conformance", "--only", "expiry", "--minute-seconds", "3", "--report-dir", str(tmp_path)],
            {**_env(), "COLUMNS": "200"},
        )
    out = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the pty
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out[-3000:]
    first = STATUS.search(out)
    assert first is not None, out[-3000:]
    first_result = out.find(b".", out.index(b"429 answers are waited out"))  # pytest's first result
    assert first.start() < first_result, "the status came only after the wait"
    lefts = {int(m.group(2)) for m in STATUS.finditer(out)}
    assert len(lefts) >= 2, f"the time left never changed: {lefts}"  # live, not drawn once
    assert re.search(rb"s left \(\d+ of \d+ requirements judged\)", out), out[first.start() - 10 : first.start() + 200]
    # The status is erased before pytest writes: the verdict block and closing line are intact.
    assert b"leasecheck verdict" in out and b"leasecheck PASSED" in out.splitlines()[-1]


def test_off_a_terminal_one_line_per_area_and_no_redrawing(tmp_path: Path) -> None:
    proc = subprocess.run(
        # timing's scenarios run three ways (serial, early, a timeline), pytest reaching them apart.
        [*LEASECHECK, "conformance", "--only", "lifecycle", "--only", "timing", "--report-dir", str(tmp_path)],
        capture_output=True,
        timeout=300,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    done = re.findall(
        rb"^leasecheck: (\w+) done: \d+ scenarios?, [\d.]+ s into the run; \d+ of \d+ requirements judged$",
        proc.stdout,
        re.M,
    )
    assert sorted(done) == [b"lifecycle", b"timing"], proc.stdout[-3000:]  # each area once, when it is done
    assert b"\r" not in proc.stdout and b"\b" not in proc.stdout and b"waiting for" not in proc.stdout
