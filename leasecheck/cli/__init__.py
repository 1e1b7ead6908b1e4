"""The `leasecheck` command: serve, conformance, load, doctor and friends.

One module per command (`leasecheck/cli/<command>.py`). Subcommands import
their machinery only when they run, so that `leasecheck --help` stays fast
and a missing optional piece cannot break unrelated commands. Every command
ends through `errors.guarded`: exit 2 for a user's mistake, 3 for ours.
"""

from __future__ import annotations

import importlib
import sys

import click

from leasecheck import __version__

from .errors import PromptlessGroup, UsageFailure, guarded

__all__ = ["COMMANDS", "SECTIONS", "UsageFailure", "cli", "main"]


#: Every command, in the sections `leasecheck --help` shows them in, written
#: the way it prints them: a section's title, then one row per command, `name
#: module:attribute (under leasecheck.cli) one-line help`. The help is read from
#: here, so listing the commands imports none of them.
TABLE = """
Test a server
  conformance  conformance:conformance  Run the conformance suite against a target.
  load         load:load                Drive a lease API with a locust PROFILE, then judge the history.
  serve        serve:serve              Run the bundled reference lease server.
Before a run
  doctor       conformance:doctor       Check a target before a run.
  plan         plan:plan                Print the licenses an inventory-mode run needs, and what a file covers.
After a run
  diff         diff:diff                Compare two runs: what was fixed, what broke.
  cleanup      cleanup:cleanup          Finish the cleanup of a run that was killed.
Publish results
  keygen       bundle:keygen_command    Create an Ed25519 key for signing results.
  bundle       bundle:bundle_command    Sign a run's reports into a publishable bundle.
  verify       bundle:verify_command    Check a results bundle.
The suite's own tools
  spec         spec:spec_group          The spec's own tools: schema export and checks.
  gallery      gallery:gallery          Run every fault and honest variant against the suite.
"""


def sections(table: str) -> dict[str, dict[str, tuple[str, str]]]:
    """Section title -> command name -> ("leasecheck.cli.module:attribute", help)."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    rows: dict[str, tuple[str, str]] = {}
    for line in table.strip().splitlines():
        if not line.startswith(" "):
            rows = out.setdefault(line, {})
            continue
        name, target, short = line.split(maxsplit=2)
        rows[name] = (f"leasecheck.cli.{target}", short)
    return out


SECTIONS = sections(TABLE)
#: Every command by name, whatever its section.
COMMANDS: dict[str, tuple[str, str]] = {name: row for rows in SECTIONS.values() for name, row in rows.items()}


class LazyGroup(PromptlessGroup):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr = COMMANDS[cmd_name][0].split(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for title, rows in SECTIONS.items():
            with formatter.section(title):
                formatter.write_dl([(name, short) for name, (_, short) in rows.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="leasecheck")
def cli() -> None:
    """Conformance and load testing for floating-license lease APIs."""


def main(argv: list[str] | None = None) -> None:
    guarded(lambda: cli.main(args=argv, prog_name="leasecheck", standalone_mode=False))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
