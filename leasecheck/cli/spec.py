"""`leasecheck spec ...`: the spec's own tools (schema export, drift check, contract check)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from leasecheck.cli.errors import UsageFailure
from leasecheck.specs import SCHEMA_DIR  # a path: the schema machinery loads when a command runs

OPENAPI = Path(SCHEMA_DIR).parent / "openapi.yaml"
F = TypeVar("F", bound=Callable[..., Any])


@click.group("spec")
def spec_group() -> None:
    """The spec: export JSON Schemas from openapi.yaml and check they are in sync."""


def schema_dir_option(flag: str, dest: str, help: str) -> Callable[[F], F]:
    """The schema folder option both schema commands take (default: the bundled one)."""
    folder = click.Path(file_okay=False, path_type=Path)
    return click.option(flag, dest, type=folder, default=SCHEMA_DIR, show_default=True, help=help)


@spec_group.command("export-schemas")
@schema_dir_option("--out", "out_dir", "Directory to write <Name>.json files into.")
def export_schemas(out_dir: Path) -> None:
    """Write one JSON Schema per OpenAPI component and remove stale files."""
    from leasecheck.specs.export import export

    for path in export(out_dir):
        click.echo(f"wrote {path}")


@spec_group.command("check")
@schema_dir_option("--dir", "directory", "Directory holding the exported schemas.")
def check(directory: Path) -> None:
    """Exit 1 and list the differences if the schemas drifted from openapi.yaml."""
    from leasecheck.specs.export import build, drift

    problems = drift(directory)
    if problems:
        for line in problems:
            click.echo(line, err=True)
        click.echo("schemas are out of sync with openapi.yaml: run `leasecheck spec export-schemas`", err=True)
        sys.exit(1)
    click.echo(f"schemas in {directory} match openapi.yaml ({len(build())} components)")


@spec_group.command("contract-check")
@click.argument("official", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--ours",
    type=click.Path(dir_okay=False, path_type=Path),
    default=OPENAPI,
    show_default=True,
    help="Our OpenAPI document (its requirements.yaml beside it explains stricter points).",
)
def contract_check(official: Path, ours: Path) -> None:
    """Compare our spec with an official contract file: exit 1 where ours contradicts it.

    Every difference is printed, one per line, for every operation we cover.
    Ours may be stricter only where requirements.yaml says why. Exit 0 when
    nothing contradicts, 1 on a contradiction or an unexplained stricter
    point, 2 when a file is missing or not an OpenAPI document."""
    from leasecheck.specs import contract

    try:
        code = contract.check(ours, official)
    except contract.ContractError as exc:
        raise UsageFailure(str(exc)) from None
    raise SystemExit(code)
