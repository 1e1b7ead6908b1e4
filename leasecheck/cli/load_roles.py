"""`leasecheck load --master` / `--worker`: one run over several machines, checked before it starts.

The master provisions, plans, collects every worker's history and judges;
a worker only runs users and streams what it saw. Every mistake in how the
roles are combined is refused here with one line and exit 2, before any
request: a worker given master-side settings would silently ignore them,
and a master without `--expect-workers` would not know when to start.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, NoReturn

import click
from click.core import ParameterSource

from leasecheck.cli.errors import UsageFailure

DEFAULT_MASTER_PORT = 5557  # locust's own default
DEFAULT_WORKER_WAIT = 600.0
_HOST = re.compile(r"^[A-Za-z0-9._\-:\[\]]+$")
#: Options that only the master reads (the worker gets the run plan from it).
MASTER_ONLY = (
    ("target", "--target"),
    ("management_token", "--management-token"),
    ("minute_seconds", "--minute-seconds"),
    ("users", "--users"),
    ("duration_text", "--duration"),
    ("slo_texts", "--slo"),
    ("report_dir", "--report-dir"),
    ("rate", "--rate"),
    ("params", "--param"),
    ("server_workers", "--server-workers"),
)


_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("--master", {"is_flag": True, "help": "several machines: provision, collect every worker's history, judge"}),
    ("--expect-workers", {"type": int, "help": "with --master: how many --worker processes to wait for"}),
    ("--worker", {"is_flag": True, "help": "several machines: run users for the --master at --master-host"}),
    ("--master-host", {"help": "with --worker: the host name or address of the machine running --master"}),
    (
        "--worker-wait",
        {
            "type": float,
            "default": DEFAULT_WORKER_WAIT,
            "show_default": True,
            "help": "with --master: seconds to wait for --expect-workers to connect before giving up",
        },
    ),
    (
        "--master-port",
        {
            "type": int,
            "default": DEFAULT_MASTER_PORT,
            "show_default": True,
            "help": "the master's port (--master listens on it, --worker connects to it)",
        },
    ),
]


@dataclass(frozen=True)
class Roles:
    """The six role options as one value: declared once here, handed to the command by `role_options`."""

    master: bool = False
    expect_workers: int | None = None
    worker: bool = False
    master_host: str | None = None
    master_port: int = DEFAULT_MASTER_PORT
    worker_wait: float = DEFAULT_WORKER_WAIT


def role_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The role options of `leasecheck load`, declared beside the rules that check them.

    The command receives them as one `roles: Roles` (unchecked: see `check_roles`),
    so its signature does not list them again."""
    names = [f.name for f in fields(Roles)]

    @functools.wraps(command)
    def collect(*args: Any, **kwargs: Any) -> Any:
        roles = Roles(**{name: kwargs.pop(name) for name in names})
        return command(*args, roles=roles, **kwargs)

    decorated: Callable[..., Any] = collect
    for flag, kwargs in reversed(_OPTIONS):
        decorated = click.option(flag, **kwargs)(decorated)
    return decorated


def check_roles(ctx: click.Context, roles: Roles, *, processes: int, judging: bool) -> Roles:
    """The roles as given, once checked, or a UsageFailure naming the first mistake."""
    if roles.master and roles.worker:
        _fail("--master and --worker exclude each other: one machine is the master, the others are workers")
    if roles.expect_workers is not None and not roles.master:
        _fail("--expect-workers goes with --master")
    if roles.master and roles.expect_workers is None:
        _fail("--master needs --expect-workers N (how many workers to wait for before starting)")
    if roles.expect_workers is not None and roles.expect_workers < 1:
        _fail("--expect-workers must be at least 1")
    if roles.worker and not roles.master_host:
        _fail("--worker needs --master-host HOST (the machine running `leasecheck load PROFILE --master`)")
    if roles.master_host is not None and not roles.worker:
        _fail("--master-host goes with --worker")
    if roles.master_host is not None and not _HOST.match(roles.master_host):
        _fail(f"--master-host {roles.master_host!r}: give a host name or an IP address, not a URL")
    if not 1 <= roles.master_port <= 65535:
        _fail("--master-port must be between 1 and 65535")
    if ctx.get_parameter_source("master_port") == ParameterSource.COMMANDLINE and not (roles.master or roles.worker):
        _fail("--master-port goes with --master or --worker")
    if not (math.isfinite(roles.worker_wait) and roles.worker_wait > 0):
        _fail(f"--worker-wait must be a finite number of seconds greater than 0, not {roles.worker_wait:g}")
    if ctx.get_parameter_source("worker_wait") == ParameterSource.COMMANDLINE and not roles.master:
        _fail("--worker-wait goes with --master")
    if (roles.master or roles.worker) and processes:
        _fail("--processes starts workers on this machine; with --master, start each worker with --worker")
    if (roles.master or roles.worker) and judging:
        _fail("--judge judges shards written earlier: not with --master or --worker")
    if roles.worker:
        for name, flag in MASTER_ONLY:
            if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE:
                _fail(f"{flag} is the master's setting: a worker takes the run plan from the master")
    return roles


def _fail(message: str) -> NoReturn:
    raise UsageFailure(message)
