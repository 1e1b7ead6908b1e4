"""Run the reference server as a real subprocess: the one way tests, the
conformance CLI and the load CLI start it (by module name: the suite
never imports the server it judges).

    with ReferenceServer(minute_seconds=1.0) as srv:
        Http(srv.base_url) ...

The server listens on a free loopback port (it binds port 0 and prints the
port it got, so there is no pick-then-bind race); `start` waits for that line
and for /readyz, with a deadline and no fixed sleep. Output goes to a log file
in a temporary directory; the management token travels in the environment,
never on the command line or in the log.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from leasecheck.core.lifetime import die_with_parent

#: The environment variable that carries the management token to the server process
#: (never the command line, never the log). The server reads the same name.
TOKEN_ENV = "LEASECHECK_MANAGEMENT_TOKEN"
#: The module a bundled server runs as (`python -m ...`). Faulty servers of the
#: gallery run another module; this core only ever talks to them over HTTP.
SERVER_MODULE = "leasecheck.reference_server"


def default_key_file(db_path: Path) -> Path:
    """The signing-key file lives next to the database: `x.db` -> `x.keys.json`."""
    return db_path.with_name(db_path.stem + ".keys.json")


#: The whole announcement, ended by its newline: the log is read while the server
#: writes it, and a line caught half-written ("...127.0.0.1:" or a port cut short)
#: must not be taken for the address.
_LISTENING = re.compile(r"leasecheck reference server listening on (http://[^\s/]+:\d+)\r?\n")
_POLL_SECONDS = 0.02


class ServerStartError(RuntimeError):
    """The server did not become ready; the message carries the tail of its log."""


class ReferenceServer:
    """A reference server subprocess on 127.0.0.1 (all its workers in one process group)."""

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        minute_seconds: float = 60.0,
        workers: int = 1,
        management_token: str | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 20.0,
        module: str = SERVER_MODULE,
    ) -> None:
        self.module = module
        self.workdir = Path(tempfile.mkdtemp(prefix="leasecheck-server-"))
        self.db_path = Path(db_path) if db_path is not None else self.workdir / "leasecheck.db"
        self.key_file = default_key_file(self.db_path)
        self.log_path = self.workdir / "server.log"
        self.minute_seconds = minute_seconds
        self.workers = workers
        self.management_token = management_token or secrets.token_urlsafe(32)
        self.extra_args = tuple(extra_args)
        self.env = dict(env or {})
        self.ready_timeout = ready_timeout
        self.port: int | None = None
        self.base_url: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._offset = 0  # where this launch's lines begin in the log (a restart appends)
        self._launched_at = 0.0
        self._ready = False

    # ------------------------------------------------------------------ state
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._exit_status() is None

    def _exit_status(self) -> int | None:
        """The main process's exit status if it has exited, without reaping it.

        Never reaping before `_reap` keeps the process-group id ours, so that
        `killpg` cannot reach a stranger.
        """
        assert self._proc is not None
        if self._proc.returncode is not None:
            return self._proc.returncode
        try:
            info = os.waitid(os.P_PID, self._proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return -1
        return None if info is None else info.si_status

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    # ------------------------------------------------------------------ lifecycle
    def _command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            self.module,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port or 0),
            "--db",
            str(self.db_path),
            "--minute-seconds",
            repr(float(self.minute_seconds)),
            "--workers",
            str(self.workers),
            *self.extra_args,
        ]

    def start(self) -> ReferenceServer:
        """Launch and wait until ready; raises ServerStartError with the log tail."""
        return self.launch().wait_ready()

    def launch(self) -> ReferenceServer:
        """Start the process and return at once; `wait_ready` waits for it. A caller with
        work of its own meanwhile (the conformance run collects its scenarios) overlaps
        the server's start-up (its imports, its database) with that work."""
        if self.running:
            raise RuntimeError("server is already running")
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        env = {**os.environ, **self.env, TOKEN_ENV: self.management_token}
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # own process group: kill() reaches every worker
                preexec_fn=die_with_parent,  # a hard-killed run leaves no server behind
            )
        self._launched_at = time.monotonic()
        return self

    def wait_ready(self) -> ReferenceServer:
        """Wait until the launched server listens and answers /readyz, within
        `ready_timeout` of its launch; raises ServerStartError with the log tail."""
        if self._proc is None:
            raise RuntimeError("server was not launched")
        if self._ready:
            return self
        deadline = self._launched_at + self.ready_timeout
        try:
            self.base_url = self._wait_for_listening(self._offset, deadline)
            self.port = int(self.base_url.rsplit(":", 1)[1])
            self._wait_for_ready(deadline)
        except ServerStartError:
            self.kill()
            raise
        self._ready = True
        return self

    def _fail(self, why: str) -> ServerStartError:
        tail = self.log_text()[-4000:]
        return ServerStartError(f"reference server {why}; log {self.log_path}:\n{tail}")

    def _wait_for_listening(self, offset: int, deadline: float) -> str:
        assert self._proc is not None
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                match = _LISTENING.search(fh.read().decode("utf-8", "replace"))
            if match:
                return match.group(1)
            status = self._exit_status()
            if status is not None:
                raise self._fail(f"exited with status {status} before listening")
            time.sleep(_POLL_SECONDS)
        raise self._fail(f"did not listen within {self.ready_timeout:.0f} s")

    def _wait_for_ready(self, deadline: float) -> None:
        from leasecheck.core.client import Http  # here: `leasecheck serve --help` needs no HTTP client

        assert self.base_url is not None
        with Http(self.base_url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if http.request("GET", "/readyz").status == 200:
                    return
                time.sleep(_POLL_SECONDS)
        raise self._fail(f"was not ready within {self.ready_timeout:.0f} s")

    def _wait_exited(self, deadline: float) -> bool:
        """Wait for the main process to exit without reaping it (its pid keeps the group id ours)."""
        while True:
            if self._exit_status() is not None:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)

    def _kill_group(self) -> None:
        assert self._proc is not None
        if self._proc.returncode is not None:
            return  # reaped: the group id is no longer ours to signal
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)

    def _reap(self) -> None:
        assert self._proc is not None
        self._kill_group()  # stragglers, while the unreaped leader still holds the group id
        self._proc.wait()
        self._proc = None
        self._ready = False

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (graceful), then SIGKILL to the whole group after `timeout`."""
        if self._proc is None:
            return
        if self._exit_status() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, signal.SIGTERM)
            if not self._wait_exited(time.monotonic() + timeout):
                self._kill_group()
                self._wait_exited(time.monotonic() + timeout)
        self._reap()

    def kill(self) -> None:
        """SIGKILL every process of the server at once: a crash, for recovery tests."""
        if self._proc is None:
            return
        self._kill_group()
        self._wait_exited(time.monotonic() + 10.0)
        self._reap()

    def restart(self) -> ReferenceServer:
        """Start again on the same database, key file and port."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop and delete the temporary directory (and the database, if it lives there)."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> ReferenceServer:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()
