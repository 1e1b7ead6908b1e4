"""A profile's knobs: name, default, and what it means; `--param KEY=VALUE` sets one.

A value is typed like its default (an int knob takes `--param licenses=4`,
not `4.5`), so a profile declares each knob once and never parses strings.
Every time-like knob is in lease units where that is what matters (a
heartbeat at a third of the lease, a pause of 1.5 leases), so the same
profile is right for the bundled server (a policy minute of 1 s) and for a
real target (60 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from leasecheck.core.errors import UsageError

Value = int | float | str


class ParamError(UsageError):
    """A knob the profile does not have, a value of the wrong type, or values
    that do not fit together: one line, exit 2, before anything starts."""


@dataclass(frozen=True)
class Param:
    """A number knob says what range it takes (`above`: greater than; `least`: at least;
    `most`: at most) and `resolve` refuses anything else, and any nan or inf, so that
    no value reaches locust that would stall a run (`round_seconds=0`) or never end
    it (`step_seconds=nan`). A number knob without a lower bound is a profile bug."""

    name: str
    default: Value
    help: str = ""
    above: float | None = None
    least: float | None = None
    most: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.default, str):
            return
        if self.above is None and self.least is None:
            raise TypeError(f"knob {self.name}: a number knob needs a lower bound (above= or least=)")
        if self.problem(self.default):
            raise TypeError(f"knob {self.name}: its default {self.default!r} is out of its own range")

    def bounds(self) -> str:
        """The range in words, e.g. "greater than 0", "from 0 to 1"; "" for a text knob."""
        if isinstance(self.default, str):
            return ""
        low = f"greater than {self.above:g}" if self.above is not None else f"at least {self.least:g}"
        if self.most is None:
            return low
        return f"from {self.least:g} to {self.most:g}" if self.above is None else f"{low} and at most {self.most:g}"

    def problem(self, value: Value) -> str | None:
        """Why `value` is out of range, or None."""
        if isinstance(value, str):
            return None
        bad = (
            not math.isfinite(value)
            or (self.above is not None and value <= self.above)
            or (self.least is not None and value < self.least)
            or (self.most is not None and value > self.most)
        )
        kind = "a whole number" if isinstance(self.default, int) else "a finite number"
        return f"--param {self.name} must be {kind} {self.bounds()}, not {value:g}" if bad else None


def resolve(profile: str, params: tuple[Param, ...], raw: dict[str, str]) -> dict[str, Any]:
    """The defaults overlaid with `--param` values, typed like the defaults, each in its range."""
    by_name = {p.name: p for p in params}
    out: dict[str, Any] = {p.name: p.default for p in params}
    for key, value in raw.items():
        if key not in by_name:
            raise ParamError(f"profile {profile} has no parameter {key!r} (it has: {', '.join(sorted(by_name))})")
        kind = type(by_name[key].default)
        try:
            out[key] = value if kind is str else kind(value)
        except ValueError:
            raise ParamError(f"--param {key}={value!r}: not a valid {kind.__name__}") from None
        problem = by_name[key].problem(out[key])
        if problem:
            raise ParamError(problem)
    return out


# ------------------------------------------------------- knobs many profiles share
def timeout_minutes(default: int) -> Param:
    """Every profile has it: the licenses' lease length, and the unit of its time-like knobs."""
    return Param(
        "timeout_minutes",
        default,
        "the policy's floating_timeout_minutes (a lease lasts this x --minute-seconds)",
        least=1,
    )


def heartbeat_fraction() -> Param:
    return Param("heartbeat_fraction", 1 / 3, "heartbeat every this share of the lease", above=0)


def max_in_flight() -> Param:
    return Param(
        "max_in_flight",
        2000,
        "open loop: most sessions in flight at once; arrivals beyond are shed (counted as failures)",
        least=1,
    )
