"""`leasecheck serve`: run the reference server, or with --fault/--variant a gallery server.

The options are the server's own (`reference_server.options`) and the
gallery's (`gallery.options`); this command only composes them. Without a
fault or variant it is exactly `python -m leasecheck.reference_server serve`.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from leasecheck.gallery.options import case_options
from leasecheck.reference_server.options import server_options, settings_from


@click.command("serve")
@server_options
@case_options
def serve(fault: str | None, variant: str, **chosen: Any) -> None:
    """Run the bundled reference lease server."""
    settings, token_generated = settings_from(**chosen)
    if fault or variant != "default":
        from leasecheck.gallery import serving  # the faults load only when one is asked for

        code = serving.serve(settings, token_generated=token_generated, fault_name=fault, variant_name=variant)
    else:
        from leasecheck.reference_server import runner  # uvicorn is only imported when serving

        code = runner.serve(settings, token_generated=token_generated)
    sys.exit(code)
