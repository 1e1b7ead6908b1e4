"""`leasecheck diff OLD NEW`: what changed between two runs, as a CI gate."""

from __future__ import annotations

from pathlib import Path

import click

from leasecheck.cli.errors import UsageFailure
from leasecheck.conformance.diff import ResultsError, diff_files, render_text


@click.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="also write the diff as JUnit XML")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="also write the diff as JSON")
@click.option(
    "--allow-coverage-loss",
    is_flag=True,
    help="a MUST requirement checked before and not run now does not fail the gate",
)
def diff(old: Path, new: Path, junit: Path | None, json_out: Path | None, allow_coverage_loss: bool) -> None:
    """Compare two runs (results.json files or report dirs).

    Exit 0 no regression, 1 a new MUST failure, 4 MUST requirements checked
    before are not run now (coverage lost), 2 bad input."""
    try:
        d = diff_files(old, new, junit=junit, json_out=json_out)
    except ResultsError as exc:
        raise UsageFailure(str(exc)) from None
    click.echo(render_text(d, allow_coverage_loss), nl=False)
    raise SystemExit(d.exit_code(allow_coverage_loss))
