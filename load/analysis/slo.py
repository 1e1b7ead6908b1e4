"""Service-level thresholds as CI gates: `--slo p99<50ms --slo errors<0.1%`.

Grammar: `[endpoint:]metric op value[unit]`.
- latency: `p50` … `p99.9` (any `pNN[.N]`), `mean`, `max`; unit `us`, `ms` or `s`.
  Without an endpoint it is the percentile of every lease request together.
- `errors`, `denials`: a share of logical operations, written with `%`.
- `rps`: achieved throughput, requests per second (the knee, for the step profile).
`op` is one of `<`, `<=`, `>`, `>=`. A bad expression is a `SloError` whose
message is the one-line reason.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

_EXPR = re.compile(
    r"^\s*(?:(?P<endpoint>[a-z][a-z ()_-]*?)\s*:)?\s*(?P<metric>[a-z][a-z0-9.]*)\s*"
    r"(?P<op><=|>=|<|>)\s*(?P<value>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[a-z%/]*)\s*$"
)
_PERCENTILE = re.compile(r"^p(?P<q>[0-9]{1,2}(?:\.[0-9]+)?)$")
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
RATE_METRICS = ("errors", "denials")
#: The lease API's endpoints: what `checkout:p95<20ms` may name (a profile adds its labels, `Profile.endpoints`).
ENDPOINTS = ("checkout", "heartbeat", "checkin")


class SloError(ValueError):
    """An SLO expression that cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Slo:
    text: str
    metric: str  # "latency" | "errors" | "denials" | "rps"
    op: str
    limit: float  # seconds for latency, a fraction for rates, requests/s for rps
    quantile: float | None = None  # percent, for latency percentiles (100 = max)
    statistic: str | None = None  # "percentile" | "mean" | "max"
    endpoint: str | None = None

    def holds(self, observed: float | None) -> bool:
        """No observation (e.g. no samples) never passes a gate."""
        return observed is not None and _OPS[self.op](observed, self.limit)

    def show(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        if self.metric == "latency":
            return f"{value * 1000:.2f} ms"
        if self.metric in RATE_METRICS:
            return f"{value * 100:.3g}%"
        return f"{value:.1f} rps"


def parse(text: str) -> Slo:
    m = _EXPR.match(text.lower())
    if not m:
        raise SloError(f"--slo {text!r}: expected [endpoint:]metric<value, e.g. p99<50ms, errors<0.1%, rps>=200")
    endpoint, metric, op, unit = m["endpoint"], m["metric"], m["op"], m["unit"]
    value = float(m["value"])
    pct = _PERCENTILE.match(metric)
    if pct or metric in ("mean", "max"):
        if unit not in _TIME_UNITS:
            raise SloError(f"--slo {text!r}: a latency limit needs a unit: us, ms or s (e.g. {metric}<50ms)")
        quantile = float(pct["q"]) if pct else (100.0 if metric == "max" else None)
        if quantile is not None and not 0 < quantile <= 100:
            raise SloError(f"--slo {text!r}: percentile must be between 0 and 100")
        statistic = "percentile" if pct else metric
        return Slo(text, "latency", op, value * _TIME_UNITS[unit], quantile, statistic, endpoint)
    if endpoint:
        raise SloError(f"--slo {text!r}: only latency thresholds take an endpoint")
    if metric in RATE_METRICS:
        if unit != "%":
            raise SloError(f"--slo {text!r}: {metric} is a share, write it with % (e.g. {metric}<0.1%)")
        if value > 100:
            raise SloError(f"--slo {text!r}: a share cannot exceed 100%")
        return Slo(text, metric, op, value / 100)
    if metric in ("rps", "throughput"):
        if unit not in ("", "rps", "/s"):
            raise SloError(f"--slo {text!r}: throughput is in requests per second (e.g. rps>=200)")
        return Slo(text, "rps", op, value)
    raise SloError(f"--slo {text!r}: unknown metric {metric!r}; use pNN, mean, max, errors, denials or rps")


def parse_all(texts: tuple[str, ...] | list[str]) -> list[Slo]:
    return [parse(t) for t in texts]


def check_endpoints(slos: list[Slo], profile: str, endpoints: tuple[str, ...]) -> None:
    """An endpoint the profile's traffic never calls has no samples: its SLO would be
    "breached: observed n/a" after the whole run. Refuse it before the run instead."""
    for slo in slos:
        if slo.endpoint is not None and slo.endpoint not in endpoints:
            raise SloError(
                f"--slo {slo.text!r}: {profile} has no endpoint {slo.endpoint!r}; its endpoints: {', '.join(endpoints)}"
            )
