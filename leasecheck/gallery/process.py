"""Start a gallery server as a subprocess, the way tests, benchmarks and the matrix do.

The suite never imports the server it judges: a faulty or variant server is
`python -m leasecheck.gallery serve --fault NAME` (or `--variant NAME`),
started and stopped by the core's `ReferenceServer` like the correct one.
"""

from __future__ import annotations

from collections.abc import Mapping

from leasecheck.core.server_process import ReferenceServer

#: The module a gallery server runs as.
MODULE = "leasecheck.gallery"


def case_args(*, fault: str | None = None, variant: str | None = None) -> tuple[str, ...]:
    """The command-line arguments that select a fault and/or a variant."""
    return (*(("--fault", fault) if fault else ()), *(("--variant", variant) if variant else ()))


def server(
    *,
    fault: str | None = None,
    variant: str | None = None,
    minute_seconds: float = 60.0,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
) -> ReferenceServer:
    """A gallery server, not yet started (use it as a context manager)."""
    return ReferenceServer(
        module=MODULE,
        minute_seconds=minute_seconds,
        workers=workers,
        extra_args=case_args(fault=fault, variant=variant),
        env=env,
    )
