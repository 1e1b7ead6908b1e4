"""The `leasecheck` command: serve, conformance, load, doctor and friends.

Subcommands import their machinery lazily so that `leasecheck --help` stays
fast and a missing optional piece cannot break unrelated commands.
"""

from __future__ import annotations

import sys

import click

from . import __version__


class UsageFailure(click.ClickException):
    """Bad settings: one line on stderr, exit 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"leasecheck: error: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leasecheck")
def cli() -> None:
    """Conformance and load testing for floating-license lease APIs."""


def _register() -> None:
    from leasecheck.conformance.bundle import bundle_command, keygen_command, verify_command
    from leasecheck.conformance.cleanup import cleanup
    from leasecheck.conformance.command import conformance, doctor
    from leasecheck.conformance.diff import diff
    from leasecheck.load.command import load
    from leasecheck.reference_server.command import gallery, serve
    from leasecheck.specs.export import spec_group

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
    ):
        cli.add_command(command)
    cli.add_command(gallery)


def main(argv: list[str] | None = None) -> None:
    _register()
    cli.main(args=argv, prog_name="leasecheck", standalone_mode=True)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
