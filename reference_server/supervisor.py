"""`--workers N`: uvicorn's supervisor, with workers that die with it however it dies.

uvicorn's `Multiprocess` stops its workers when it is asked to (SIGTERM,
SIGINT), but a `kill -9` of the supervisor leaves them serving, re-parented to
init, holding the port: a restart then fails with "Address already in use".
Here every worker asks the kernel for SIGTERM when its parent dies
(PR_SET_PDEATHSIG, Linux) before it serves, and exits at once if the parent
is already gone (the signal cannot be asked for after the fact). SIGTERM, not
SIGKILL: the worker shuts down as uvicorn does on SIGTERM (in-flight answers
finish within `timeout_graceful_shutdown`), then exits.

`Supervisor` is uvicorn 0.54's `Multiprocess` with one change: it starts
`Worker`s instead of uvicorn's `Process`. uvicorn builds a `Process` in three
methods and offers no factory to override, so those three are restated here
with `self._worker()` in place of `Process(...)`; everything else (health
pings, restart of a dead or hung worker, signals) is uvicorn's own.
"""

from __future__ import annotations

import os
from socket import socket

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process, logger

from leasecheck.core.lifetime import die_with_parent


class Worker(Process):
    """A uvicorn worker process bound to the lifetime of the supervisor that started it."""

    def __init__(self, config: Config, sockets: list[socket]) -> None:
        self.parent_pid = os.getpid()
        super().__init__(config, sockets)

    def target(self, sockets: list[socket] | None = None) -> None:  # pragma: no cover - runs in the worker
        die_with_parent(self.parent_pid)
        super().target(sockets)


class Supervisor(Multiprocess):
    """uvicorn's `Multiprocess`, starting `Worker`s (see the module docstring)."""

    def _worker(self) -> Worker:
        return Worker(self.config, self.sockets)

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            process = self._worker()
            process.start()
            self.processes.append(process)

    def restart_all(self) -> None:
        """Replace each worker, bringing its replacement into service before retiring the old one (SIGHUP)."""
        for idx, old_process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new_process = self._worker()
            new_process.start()
            if not new_process.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new_process.kill()
                new_process.join()
                if not self.should_exit.is_set():
                    logger.error(
                        f"New child process [{new_process.pid}] was not ready in time; "
                        f"keeping worker [{old_process.pid}] and aborting the restart."
                    )
                return
            old_process.terminate()
            old_process.join()
            self.processes[idx] = new_process

    def keep_subprocess_alive(self) -> None:
        """Replace a worker that died or stopped answering health pings (as uvicorn does)."""
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # It failed before serving: the app or the socket is broken and would fail again.
                logger.error(f"Child process [{process.pid}] failed to start, stopping the parent process.")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info(f"Child process [{process.pid}] died")
            replacement = self._worker()
            replacement.start()
            self.processes[idx] = replacement
