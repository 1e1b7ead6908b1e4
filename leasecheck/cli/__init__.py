"""The `leasecheck` command: serve, conformance, load, doctor and friends.

One module per command (`leasecheck/cli/<command>.py`). Subcommands import
their machinery only when they run, so that `leasecheck --help` stays fast
and a missing optional piece cannot break unrelated commands. Every command
ends through `errors.guarded`: exit 2 for a user's mistake, 3 for ours.
"""

from __future__ import annotations

import sys

import click

from leasecheck import __version__

from .errors import UsageFailure, guarded

__all__ = ["UsageFailure", "cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leasecheck")
def cli() -> None:
    """Conformance and load testing for floating-license lease APIs."""


def _register() -> None:
    from leasecheck.reference_server.command import gallery, serve

    from .bundle import bundle_command, keygen_command, verify_command
    from .cleanup import cleanup
    from .conformance import conformance, doctor
    from .diff import diff
    from .load import load
    from .spec import spec_group

    for command in (
        serve,
        conformance,
        doctor,
        load,
        spec_group,
        cleanup,
        diff,
        keygen_command,
        bundle_command,
        verify_command,
        gallery,
    ):
        cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    _register()
    guarded(lambda: cli.main(args=argv, prog_name="leasecheck", standalone_mode=True))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
