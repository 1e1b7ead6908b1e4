"""`python -m leasecheck.gallery serve --fault NAME | --variant NAME`: a gallery server.

The subprocess `leasecheck.gallery.process.server` starts; users reach the
same through `leasecheck serve --fault NAME`.
"""

from __future__ import annotations

from typing import Any

import click

from leasecheck.reference_server import options

from . import serving
from .options import case_options


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def group() -> None:
    """Deliberately broken and honest-variant reference servers, to test a test suite."""


@group.command("serve")
@options.server_options
@case_options
def serve(fault: str | None, variant: str, **chosen: Any) -> None:
    """Run the reference server with one fault injected, or as an honest variant."""
    settings, token_generated = options.settings_from(**chosen)
    raise SystemExit(serving.serve(settings, token_generated=token_generated, fault_name=fault, variant_name=variant))


if __name__ == "__main__":
    options.main(group, "python -m leasecheck.gallery")
