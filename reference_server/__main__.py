"""`python -m leasecheck.reference_server serve ...` and `... rotate-key`.

The correct server only: faulty and variant servers run from the fault
gallery (`python -m leasecheck.gallery serve --fault NAME`), which this
package never imports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from . import options, runner
from .keys import KeyFileError, rotate
from .settings import SettingsError, default_key_file


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def group() -> None:
    """The leasecheck reference server."""


@group.command("serve")
@options.server_options
def serve(**chosen: Any) -> None:
    """Run the bundled reference lease server."""
    settings, token_generated = options.settings_from(**chosen)
    raise SystemExit(runner.serve(settings, token_generated=token_generated))


@group.command("rotate-key")
@options.db_option("Database whose default key file to rotate.")
@options.key_file_option("Key file to rotate (default: next to the database).")
def rotate_key(db_path: Path, key_file: Path | None) -> None:
    """Retire the active signing key and create a new one; running servers pick it up."""
    try:
        entry = rotate(key_file or default_key_file(db_path))
    except (KeyFileError, OSError) as exc:
        raise SettingsError(str(exc)) from None
    click.echo(f"new active key {entry.kid}")


if __name__ == "__main__":
    options.main(group, "python -m leasecheck.reference_server")
