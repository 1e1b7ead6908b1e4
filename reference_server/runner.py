"""Starting the server: check everything that can be checked up front, bind
the socket, hand settings to uvicorn workers, and announce readiness.

This is the one place that knows how settings reach worker processes (the
environment, see `Settings.to_env`) and how uvicorn is driven. `serve` is the
public runner every `serve` command ends in: the server's own entry point
with the correct app, and the fault gallery with an app of its own (an import
string and the environment its workers need, nothing this module knows about). Always the h11
protocol, as `connections.HardenedH11Protocol` (timeouts, a connection bound,
envelopes for requests h11 cannot parse), on `event_loop.new_event_loop`
(accept errors tallied), with `supervisor.Supervisor` for `--workers N`.
"""

from __future__ import annotations

import copy
import http.client
import os
import signal
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from .connections import ConnectionSettings, HardenedConfig, connection_bound, fd_limit
from .keys import KeyFileError, load_or_create
from .settings import Settings, SettingsError
from .store import Store
from .supervisor import Supervisor

APP = "leasecheck.reference_server.app:create_app"
LOOP = "leasecheck.reference_server.event_loop:new_event_loop"
READY_DEADLINE_SECONDS = 30.0


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def prepare(settings: Settings) -> None:
    """Refuse bad settings before anything listens: SettingsError with one line."""
    settings.validate()
    try:
        Store(settings.db_path).initialise()
    except sqlite3.Error as exc:
        raise SettingsError(f"cannot open database {settings.db_path}: {exc}") from None
    try:
        load_or_create(settings.signing_key_file)
    except KeyFileError as exc:
        raise SettingsError(str(exc)) from None


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets
    # only when their proto says TCP, and without it every keep-alive answer
    # (headers and body written separately) waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise SettingsError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def _probe_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def wait_ready(host: str, port: int, deadline: float) -> bool:
    """Poll our own /readyz until it answers 200 or the deadline passes."""
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(_probe_host(host), port, timeout=2)
        try:
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return True
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.05)
    return False


def _announce_when_ready(host: str, port: int, announce: Callable[[str], None]) -> None:
    if wait_ready(host, port, time.monotonic() + READY_DEADLINE_SECONDS):
        announce(f"leasecheck reference server listening on {base_url(host, port)}")
    else:
        print(
            f"leasecheck: error: server not ready after {READY_DEADLINE_SECONDS:.0f} s; stopping",
            file=sys.stderr,
            flush=True,
        )
        os.kill(os.getpid(), signal.SIGTERM)


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with access logs on stderr so stdout stays parseable."""
    cfg = copy.deepcopy(LOGGING_CONFIG)
    cfg["handlers"]["access"]["stream"] = "ext://sys.stderr"
    cfg["loggers"]["leasecheck"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return cfg


def say(line: str) -> None:
    """A line on stdout, in one write and flushed at once: whoever started the server
    waits for it, reading the log while other threads write to it too."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def connection_settings(settings: Settings) -> ConnectionSettings:
    """What every connection of every worker is held to; the bound follows this process's fd limit."""
    return ConnectionSettings(
        header_timeout=settings.header_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
        max_connections=connection_bound(settings.max_connections),
        timestamp_style=settings.behaviour.timestamp_style,
    )


def _describe(limits: ConnectionSettings, settings: Settings) -> str:
    fds = fd_limit()
    line = (
        f"leasecheck: up to {limits.max_connections} connections per worker (file-descriptor limit {fds}); "
        f"timeouts: headers {limits.header_timeout:g} s, body {limits.body_timeout:g} s, "
        f"keep-alive {settings.keep_alive_timeout_seconds:g} s"
    )
    if limits.max_connections > connection_bound(0, fds):
        line += f"; warning: --max-connections is above the {connection_bound(0, fds)} the fd limit leaves room for"
    return line


def run(
    settings: Settings,
    announce: Callable[[str], None],
    *,
    app: str = APP,
    env: Mapping[str, str] | None = None,
    first_lines: Sequence[str] = (),
) -> int:
    """Serve `app` (an import string of an app factory) until stopped; returns the exit status.

    `env` joins the settings in the environment that every worker inherits. The port is
    bound first, then the database and key file are opened: a busy port creates no
    files, and `first_lines` (a generated token) are announced only once both worked,
    never above the error that stops the server."""
    sock = bind(settings.host, settings.port)
    try:
        prepare(settings)
    except BaseException:
        sock.close()
        raise
    for line in first_lines:
        announce(line)
    port = sock.getsockname()[1]
    os.environ.update({**settings.to_env(), **(env or {})})  # inherited by spawned workers
    limits = connection_settings(settings)
    print(_describe(limits, settings), file=sys.stderr, flush=True)
    config = HardenedConfig(
        app,
        connections=limits,
        factory=True,
        host=settings.host,
        port=port,
        workers=settings.workers,
        loop=LOOP,
        log_config=log_config(),
        timeout_keep_alive=settings.keep_alive_timeout_seconds,  # uvicorn annotates int; call_later takes a float
        timeout_graceful_shutdown=5,
    )
    threading.Thread(target=_announce_when_ready, args=(settings.host, port, announce), daemon=True).start()
    if settings.workers > 1:
        Supervisor(config, sockets=[sock]).run()
        return 0
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return 0 if server.started else 3


def serve(settings: Settings, *, token_generated: bool, app: str = APP, env: Mapping[str, str] | None = None) -> int:
    """What every `serve` command does: refuse bad settings, print a generated token once, serve."""
    settings.validate()
    first: list[str] = []
    if token_generated:
        # The one place a secret is printed: so that a newcomer can provision.
        first.append(
            f"leasecheck reference server management token (generated, shown once): {settings.management_token}"
        )
    return run(settings, say, app=app, env=env, first_lines=first)
