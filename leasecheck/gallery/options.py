"""The options that turn the reference server into a gallery server: `--fault`,
`--variant` and `--list-faults`, shared by `python -m leasecheck.gallery serve`
and `leasecheck serve`. Light on purpose: the faults load only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from .variants import VARIANTS

F = TypeVar("F", bound=Callable[..., object])


def _list_faults(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from .registry import table

    click.echo(table())
    ctx.exit(0)


_OPTIONS = (
    click.option(
        "--variant",
        default="default",
        show_default=True,
        metavar="NAME",
        help=f"Honest variant: another accepted answer where the spec allows several ({', '.join(VARIANTS)}).",
    ),
    click.option(
        "--fault",
        default=None,
        metavar="NAME",
        help="Inject one named bug, to test a test suite (see --list-faults). Never for real use.",
    ),
    click.option(
        "--list-faults",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_list_faults,
        help="Print the fault gallery (name, area, requirements it breaks, bug) and exit.",
    ),
)


def case_options(command: F) -> F:
    """Decorate a click command with --variant, --fault and --list-faults (`variant`, `fault` arguments)."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command
