"""What a scenario needs from the target, declared beside the scenario.

A scenario that takes licenses says which, with a marker next to its
`requirement` marker:

    @pytest.mark.licenses(License(seats=2, minutes=5), License(seats=1, minutes=5, count=2))
    @pytest.mark.needs_management("suspends and reinstates its license")

These declarations are the one home of what a run needs: `leasecheck plan`
reads them to print the licenses an inventory must hold (plan.py), the
plugin reads `needs_management` to report a scenario not_run for the true
blocker before it takes any license, and the inventory test proves them by
running the whole suite on an inventory made of exactly the plan. A timeout
is either fixed (`minutes`) or "the fewest policy minutes lasting at least
`lasting` seconds", resolved with the run's minute length as the scenario
resolves it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from .settings import Settings
from .target.provisioning import FEATURES_NEED_MANAGEMENT

LICENSES_MARKER = "licenses"
MANAGEMENT_MARKER = "needs_management"


@dataclass(frozen=True)
class Param:
    """A value taken from the scenario's own parameter of this name (`parametrize`)."""

    name: str


@dataclass(frozen=True)
class License:
    """One kind of license a scenario takes (`count` of them).

    `seats=None` is a policy without max_floating_users. `features`: the policy
    carries metadata.features, which only management can create. `scope="module"`:
    one license shared by every scenario of the module (a module-scoped fixture)."""

    seats: int | Param | None = 1
    minutes: int | None = None  # a fixed policy timeout; None: `lasting`, else 1 (the default ask)
    lasting: float | Callable[[Settings], float] | None = None  # seconds the lease must last at least
    license_type: str = "subscription"
    features: bool = False
    count: int = 1
    scope: str = "test"

    def timeout_minutes(self, settings: Settings) -> int:
        """The policy timeout the scenario asks for on this target."""
        if self.minutes is not None:
            return self.minutes
        if self.lasting is None:
            return 1
        seconds = self.lasting(settings) if callable(self.lasting) else self.lasting
        return max(1, math.ceil(seconds / settings.minute - 1e-9))


@dataclass(frozen=True)
class Need:
    """A declared license, resolved for one collected scenario and one target."""

    seats: int | None
    timeout_minutes: int
    license_type: str
    features: bool

    def describe(self) -> str:
        seats = "no max_floating_users" if self.seats is None else f"max_floating_users={self.seats}"
        extra = "" if self.license_type == "subscription" else f", license_type={self.license_type}"
        return f"{seats}, floating_timeout_minutes={self.timeout_minutes}{extra}"


@dataclass(frozen=True)
class ScenarioNeeds:
    """Everything one collected scenario declares."""

    nodeid: str
    requirements: tuple[str, ...]
    licenses: tuple[tuple[Need, str | None], ...]  # each need with its sharing key (None: its own)
    management: str | None  # why it needs management access, or None

    @property
    def blocker(self) -> str | None:
        """Why no inventory can serve it: management access, or a policy only management makes."""
        if self.management:
            return f"needs management access ({self.management})"
        if any(n.features for n, _ in self.licenses):
            return FEATURES_NEED_MANAGEMENT
        return None


def management_reason(item: pytest.Item) -> str | None:
    m = item.get_closest_marker(MANAGEMENT_MARKER)
    return (str(m.args[0]) if m.args else "it changes licenses") if m is not None else None


def needs_of(item: pytest.Item, settings: Settings) -> ScenarioNeeds:
    """The declarations of one collected scenario, resolved for these settings."""
    params: dict[str, Any] = getattr(getattr(item, "callspec", None), "params", {})
    licenses: list[tuple[Need, str | None]] = []
    for mark in item.iter_markers(LICENSES_MARKER):
        for lic in mark.args:
            if not isinstance(lic, License):
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.licenses takes License(...) values")
            seats = params[lic.seats.name] if isinstance(lic.seats, Param) else lic.seats
            need = Need(seats, lic.timeout_minutes(settings), lic.license_type, lic.features)
            key = f"{item.module.__name__ if hasattr(item, 'module') else ''}:{need}" if lic.scope == "module" else None
            licenses.extend((need, key) for _ in range(lic.count))
    rids = tuple(rid for m in item.iter_markers("requirement") for rid in m.args)
    return ScenarioNeeds(item.nodeid, rids, tuple(licenses), management_reason(item))
