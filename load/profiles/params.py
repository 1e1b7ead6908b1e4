"""A profile's knobs: name, default, and what it means; `--param KEY=VALUE` sets one.

A value is typed like its default (an int knob takes `--param licenses=4`,
not `4.5`), so a profile declares each knob once and never parses strings.
Every time-like knob is in lease units where that is what matters (a
heartbeat at a third of the lease, a pause of 1.5 leases), so the same
profile is right for the bundled server (a policy minute of 1 s) and for a
real target (60 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leasecheck.core.errors import UsageError

Value = int | float | str


class ParamError(UsageError):
    """A knob the profile does not have, a value of the wrong type, or values
    that do not fit together: one line, exit 2, before anything starts."""


@dataclass(frozen=True)
class Param:
    name: str
    default: Value
    help: str = ""


def resolve(profile: str, params: tuple[Param, ...], raw: dict[str, str]) -> dict[str, Any]:
    """The defaults overlaid with `--param` values, typed like the defaults."""
    defaults = {p.name: p.default for p in params}
    out: dict[str, Any] = dict(defaults)
    for key, value in raw.items():
        if key not in defaults:
            raise ParamError(f"profile {profile} has no parameter {key!r} (it has: {', '.join(sorted(defaults))})")
        kind = type(defaults[key])
        try:
            out[key] = value if kind is str else kind(value)
        except ValueError:
            raise ParamError(f"--param {key}={value!r}: not a valid {kind.__name__}") from None
    return out


# ------------------------------------------------------- knobs many profiles share
def timeout_minutes(default: int) -> Param:
    """Every profile has it: the licenses' lease length, and the unit of its time-like knobs."""
    return Param(
        "timeout_minutes", default, "the policy's floating_timeout_minutes (a lease lasts this x --minute-seconds)"
    )


def heartbeat_fraction() -> Param:
    return Param("heartbeat_fraction", 1 / 3, "heartbeat every this share of the lease")


def max_in_flight() -> Param:
    return Param(
        "max_in_flight",
        2000,
        "open loop: most sessions in flight at once; arrivals beyond are shed (counted as failures)",
    )
