"""The correct server's command-line options, defined once.

Three commands serve: `python -m leasecheck.reference_server serve` (this
package's own entry point), `python -m leasecheck.gallery serve` (a faulty or
variant server) and `leasecheck serve` (for users). Each takes these options
and adds its own; `settings_from` turns them into `Settings`.

`main` runs a server command line without the leasecheck CLI: a user's
mistake (`UsageError`, e.g. a bad setting) is one line on stderr and exit 2,
so the subprocess a test or a run starts fails the way `leasecheck` does.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from leasecheck.core.errors import UsageError

from .settings import (
    BODY_TIMEOUT_SECONDS,
    HEADER_TIMEOUT_SECONDS,
    KEEP_ALIVE_TIMEOUT_SECONDS,
    TOKEN_ENV,
    Behaviour,
    Settings,
)

F = TypeVar("F", bound=Callable[..., object])


def db_option(help: str) -> Callable[[F], F]:
    """`--db PATH` (as `db_path`), default leasecheck.db."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("leasecheck.db"),
        show_default=True,
        help=help,
    )


def key_file_option(help: str) -> Callable[[F], F]:
    """`--key-file PATH`, default: next to the database."""
    return click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=None, help=help)


def _number(flag: str, kind: type, default: float, metavar: str, help: str) -> Callable[[F], F]:
    """A numeric option with its default shown."""
    return click.option(flag, type=kind, default=default, show_default=True, metavar=metavar, help=help)


_OPTIONS = (
    click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on."),
    click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on; 0 picks a free one."),
    db_option("SQLite database file (created if missing; WAL mode)."),
    click.option(
        "--management-token",
        envvar=TOKEN_ENV,
        default=None,
        help=f"Bearer token for the management API (or ${TOKEN_ENV}); generated and printed once if absent.",
    ),
    click.option(
        "--minute-seconds",
        type=float,
        default=60.0,
        show_default=True,
        help="Length of one policy minute in seconds (compress time for tests).",
    ),
    click.option("--workers", type=int, default=1, show_default=True, help="Worker processes sharing the database."),
    key_file_option("Ed25519 signing-key file, mode 0600 (default: next to the database, NAME.keys.json)."),
    _number(
        "--throttle-every", int, 0, "N", "Answer every Nth request 429 + Retry-After: 1 (to test clients); 0 is off."
    ),
    _number(
        "--answer-delay-ms",
        float,
        0.0,
        "MS",
        "Hold every answer this long (half before handling, half after), as a remote server would; 0 is off.",
    ),
    _number(
        "--header-timeout",
        float,
        HEADER_TIMEOUT_SECONDS,
        "SECONDS",
        "Close a connection whose request line and headers are not complete in time (408 if it sent any).",
    ),
    _number(
        "--body-timeout",
        float,
        BODY_TIMEOUT_SECONDS,
        "SECONDS",
        "Close a request whose declared body has not all arrived this long after its headers (408).",
    ),
    _number(
        "--keep-alive-timeout",
        float,
        KEEP_ALIVE_TIMEOUT_SECONDS,
        "SECONDS",
        "Close a keep-alive connection idle this long between requests.",
    ),
    _number(
        "--max-connections",
        int,
        0,
        "N",
        "Open connections per worker; over it the longest-idle one is closed, or the new one gets 503. "
        "0: the fd limit minus headroom.",
    ),
)


def server_options(command: F) -> F:
    """Decorate a click command with the server's options (they arrive as keyword arguments)."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def settings_from(
    *,
    host: str,
    port: int,
    db_path: Path,
    management_token: str | None,
    minute_seconds: float,
    workers: int,
    key_file: Path | None,
    throttle_every: int,
    answer_delay_ms: float = 0.0,
    header_timeout: float = HEADER_TIMEOUT_SECONDS,
    body_timeout: float = BODY_TIMEOUT_SECONDS,
    keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT_SECONDS,
    max_connections: int = 0,
    behaviour: Behaviour | None = None,
) -> tuple[Settings, bool]:
    """The settings these options ask for, and whether the management token was generated."""
    settings = Settings(
        db_path=db_path,
        key_file=key_file,
        management_token=management_token or secrets.token_urlsafe(32),
        minute_seconds=minute_seconds,
        host=host,
        port=port,
        workers=workers,
        throttle_every=throttle_every,
        answer_delay_ms=answer_delay_ms,
        header_timeout_seconds=header_timeout,
        body_timeout_seconds=body_timeout,
        keep_alive_timeout_seconds=keep_alive_timeout,
        max_connections=max_connections,
        behaviour=behaviour or Behaviour(),
    )
    return settings, not management_token


def main(group: click.Group, prog_name: str) -> None:
    """Run a server command line; a user's mistake is one line and exit 2, never a traceback."""
    try:
        group.main(prog_name=prog_name)
    except UsageError as exc:
        click.echo(f"leasecheck: error: {exc}", err=True)
        sys.exit(exc.exit_code)
