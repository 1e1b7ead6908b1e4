"""How a gallery server runs: the reference server's own runner, with one fault or variant.

`serve` composes the settings (the variant's `Behaviour`), says loudly on
stderr that a fault is injected, and hands the runner this module's app
factory, which uvicorn workers import by name: it builds the server from the
fault's `Parts` (or the variant's, for a variant that overrides a step). The
fault's and the variant's names reach the workers in the environment, beside
the settings.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import replace

from starlette.applications import Starlette

from leasecheck.reference_server import app, runner
from leasecheck.reference_server.app import Parts
from leasecheck.reference_server.settings import Settings

from .registry import Fault, UnknownCase, fault, variant, warning_line

#: The environment variables that name the fault and the variant to the server's workers.
FAULT_ENV = "LEASECHECK_GALLERY_FAULT"
VARIANT_ENV = "LEASECHECK_GALLERY_VARIANT"
APP = "leasecheck.gallery.serving:create_app"

log = logging.getLogger("leasecheck.gallery")


def case_settings(settings: Settings, chosen: Fault | None, variant_name: str) -> Settings:
    """`settings` with the behaviour of the variant asked for, or of the one the fault is built on."""
    if chosen is not None and chosen.variant != "default":
        if variant_name not in ("default", chosen.variant):
            raise UnknownCase(f"fault {chosen.name!r} runs on variant {chosen.variant!r}; leave out --variant")
        variant_name = chosen.variant
    chosen_variant = variant(variant_name)
    if chosen is not None and chosen_variant.parts != Parts():
        raise UnknownCase(f"fault {chosen.name!r} cannot run on variant {variant_name!r}: both replace server steps")
    return replace(settings, behaviour=chosen_variant.behaviour, **chosen_variant.settings)


def serve(
    settings: Settings, *, token_generated: bool, fault_name: str | None = None, variant_name: str = "default"
) -> int:
    """Run a gallery server until stopped; returns the exit status."""
    chosen = fault(fault_name) if fault_name else None
    settings = case_settings(settings, chosen, variant_name).validate()
    if chosen is not None:
        print(warning_line(chosen), file=sys.stderr, flush=True)
    env = {FAULT_ENV: chosen.name if chosen is not None else "", VARIANT_ENV: variant_name}
    return runner.serve(settings, token_generated=token_generated, app=APP, env=env)


def create_app() -> Starlette:
    """The ASGI app of one worker: the reference server, built from the fault's parts if one is
    named, else from the variant's."""
    settings = Settings.from_env()
    name = os.environ.get(FAULT_ENV, "")
    if not name:
        return app.create_app(settings, variant(os.environ.get(VARIANT_ENV) or "default").parts)
    log.warning("FAULT INJECTED in this worker: %s (see `leasecheck serve --list-faults`)", name)
    return app.create_app(settings, fault(name).parts)
