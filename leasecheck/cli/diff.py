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
def diff(old: Path, new: Path, junit: Path | None, json_out: Path | None) -> None:
    """Compare two runs (results.json files or report dirs): exit 1 on a new MUST failure, else 0."""
    try:
        d = diff_files(old, new, junit=junit, json_out=json_out)
    except ResultsError as exc:
        raise UsageFailure(str(exc)) from None
    click.echo(render_text(d), nl=False)
    raise SystemExit(1 if d.gate_failed else 0)
