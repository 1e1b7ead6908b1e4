"""Options several commands take, defined once so they read and behave alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

TOKEN_ENV = "LEASECHECK_MANAGEMENT_TOKEN"


def management_token_option(purpose: str = "") -> Callable[[F], F]:
    """`--management-token` (or the environment, which keeps it out of shell history and `ps`)."""
    what = f"management Bearer token{' for ' + purpose if purpose else ''}"
    return click.option("--management-token", envvar=TOKEN_ENV, help=f"{what} (prefer env {TOKEN_ENV})")


#: `--state-dir`: where run ledgers live (`core/ledger.state_dir`), for the runs that keep one
#: (conformance and load on a --target) and for `cleanup`, which reads them.
state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="private dir for run ledgers (env LEASECHECK_STATE_DIR; default ~/.local/state/leasecheck)",
)
