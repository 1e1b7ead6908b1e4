"""`leasecheck plan`: the licenses a run without management access needs.

Prints, for the selected areas, how many licenses of which policy shape an
inventory must hold, which requirements need management access whatever
the inventory, and with `--inventory FILE` what that file covers. It sends
no request: it reads the scenarios' own declarations (conformance/needs.py).
`leasecheck doctor --inventory FILE` prints the coverage line too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from leasecheck.cli.errors import UsageFailure

if TYPE_CHECKING:  # the machinery is imported when the command runs: `--help` stays fast
    from leasecheck.conformance.plan import Plan
    from leasecheck.conformance.settings import Settings
    from leasecheck.conformance.target.inventory import Inventory

#: A plan is for a real target: policy minutes of 60 s unless told otherwise.
PLAN_MINUTE_SECONDS = 60.0


@click.command("plan")
@click.option("--only", multiple=True, help="plan only this requirement area (repeatable)")
@click.option("--inventory", type=click.Path(path_type=Path), help="also print what this inventory file covers")
@click.option(
    "--minute-seconds",
    type=float,
    default=PLAN_MINUTE_SECONDS,
    show_default=True,
    help="length of one policy minute on the target (timeouts are planned in its minutes)",
)
@click.option("-k", "keyword", help="pytest -k expression, as for `leasecheck conformance`")
def plan(keyword: str | None, **flags: Any) -> None:
    """Print the licenses an inventory-mode run needs; exit 2 on bad input."""
    from leasecheck.conformance.plan import render

    settings, inventory = _load(flags)
    for line in render(_plan(settings, keyword), inventory):
        click.echo(line)


def _load(flags: dict[str, Any]) -> tuple[Settings, Inventory | None]:
    from leasecheck.conformance.settings import Settings, SettingsError
    from leasecheck.conformance.target.inventory import Inventory

    try:
        # The plan is about the scenarios, not a target: no environment, no target, no token.
        settings = Settings(
            only=tuple(flags["only"]), inventory=flags["inventory"], minute_seconds=flags["minute_seconds"]
        ).validated()
        inventory = Inventory.load(settings.inventory) if settings.inventory else None
    except SettingsError as exc:
        raise UsageFailure(str(exc)) from None
    return settings, inventory


def _plan(settings: Settings, keyword: str | None = None) -> Plan:
    from leasecheck.conformance.plan import CollectionFailed, make_plan

    try:
        return make_plan(settings, keyword)
    except CollectionFailed as exc:
        raise UsageFailure(str(exc)) from None


def inventory_lines(settings: Settings) -> list[str]:
    """What `doctor --inventory` says: what the file covers, never a bare 'ok'."""
    from leasecheck.conformance.plan import render_coverage
    from leasecheck.conformance.settings import SettingsError
    from leasecheck.conformance.target.inventory import Inventory

    assert settings.inventory is not None
    try:
        inventory = Inventory.load(settings.inventory)
    except SettingsError as exc:
        raise UsageFailure(str(exc)) from None
    return render_coverage(_plan(settings), inventory)
