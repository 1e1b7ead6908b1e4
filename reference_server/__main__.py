"""`python -m leasecheck.reference_server serve ...` and `... rotate-key`."""

from __future__ import annotations

from pathlib import Path

import click

from .command import serve
from .keys import KeyFileError, rotate
from .settings import default_key_file


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The leasecheck reference server."""


@main.command("rotate-key")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("leasecheck.db"),
    show_default=True,
    help="Database whose default key file to rotate.",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Key file to rotate (default: next to the database).",
)
def rotate_key(db_path: Path, key_file: Path | None) -> None:
    """Retire the active signing key and create a new one; running servers pick it up."""
    from leasecheck.cli.errors import UsageFailure

    try:
        entry = rotate(key_file or default_key_file(db_path))
    except (KeyFileError, OSError) as exc:
        raise UsageFailure(str(exc)) from None
    click.echo(f"new active key {entry.kid}")


main.add_command(serve)

if __name__ == "__main__":
    main(prog_name="python -m leasecheck.reference_server")
