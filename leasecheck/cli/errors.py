"""How the CLI ends: exit 2 for a user's mistake, exit 3 for our own bug.

Every command runs under `guarded`: a `UsageError` (or click's own usage
errors, such as a value of the wrong type) is one line and exit 2; any other exception is an internal error: one
line naming a log file that holds the traceback, and exit 3. No traceback
ever reaches the terminal, and a CI job can tell the three apart. An
`EOFError` is no exception to that (`PromptlessGroup`): click would call it a
user's "aborted".
"""

from __future__ import annotations

import os
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click

from leasecheck.core.errors import UsageError
from leasecheck.core.inputs import discard_empty_made_dirs
from leasecheck.core.redact import redact_text as redact

#: Exit code of an internal error (a bug of leasecheck's, not the server's or the user's).
INTERNAL_ERROR = 3


class StrayEOF(Exception):
    """An `EOFError` raised inside a command, carried past click.

    click takes an `EOFError` for a user's Ctrl-D at a prompt and turns it into
    "aborted", exit 1, after a blank line. leasecheck asks no questions, so an
    `EOFError` that reaches click is a reader that met a cut-off file
    unguarded: our bug, exit 3, with the traceback logged like any other.
    """

    def __init__(self, error: EOFError) -> None:
        super().__init__(str(error))
        self.error = error


class PromptlessGroup(click.Group):
    """A command group that asks no questions: an `EOFError` is not the user's."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EOFError as exc:
            raise StrayEOF(exc) from None


class UsageFailure(click.ClickException):
    """Bad settings: one line on stderr, exit 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        # A message that quotes an answer or a value cannot carry a secret to the terminal.
        click.echo(f"leasecheck: error: {redact(self.format_message())}", err=True)


def internal_error_log(exc: BaseException) -> Path:
    """Write the traceback (secrets redacted) to a private file and return its path."""
    fd, name = tempfile.mkstemp(prefix="leasecheck-error-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(redact("".join(traceback.format_exception(exc))))
    return Path(name)


def usage_line(exc: click.UsageError) -> str:
    """click's usage error (an unknown option, a value of the wrong type) as one line."""
    ctx = exc.ctx
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    return f"leasecheck: error: {redact(exc.format_message())}{hint}"


def guarded(run: Callable[[], object]) -> None:
    """Run a CLI entry point; map a user's mistake to exit 2 and our bugs to exit 3.

    `run` calls click with `standalone_mode=False`, so that click's own usage
    errors reach this function and are shown as one line like every other."""
    try:
        code = run()
    except click.UsageError as exc:
        discard_empty_made_dirs()
        click.echo(usage_line(exc), err=True)
        raise SystemExit(exc.exit_code) from None
    except click.ClickException as exc:
        discard_empty_made_dirs()  # a refusal leaves no empty report dir behind
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.Abort:
        click.echo("leasecheck: aborted", err=True)
        raise SystemExit(1) from None
    except UsageError as exc:
        discard_empty_made_dirs()
        click.echo(f"leasecheck: error: {redact(str(exc))}", err=True)
        raise SystemExit(exc.exit_code) from None
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as caught:
        error: BaseException = caught.error if isinstance(caught, StrayEOF) else caught
        log = internal_error_log(error)
        click.echo(
            f"leasecheck: internal error: {type(error).__name__}: {redact(str(error))[:300]} (details: {log})", err=True
        )
        raise SystemExit(INTERNAL_ERROR) from None
    raise SystemExit(code if isinstance(code, int) else 0)
