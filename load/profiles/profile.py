"""A load profile: everything one kind of traffic needs, declared in one place.

A profile is a folder `profiles/<name>/`: its `__init__.py` sets `PROFILE`,
an instance of a `Profile` subclass that declares the knobs, the licenses
the run needs, what makes a run too short, and what the judge adds for it;
`locustfile.py` beside it is the traffic. The CLI, the provisioner, the
judge and the report read nothing about a profile but what it declares
here, so a new profile is one new folder.

A profile's `__init__.py` must not import locust (locust monkey-patches the
process it is imported into): the CLI and the judge import it; only its
`locustfile.py` runs inside locust.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from leasecheck.load.analysis.gates import window_findings
from leasecheck.load.analysis.observation import Findings, Observation
from leasecheck.load.analysis.shards import MergedRun
from leasecheck.load.analysis.slo import ENDPOINTS, Slo

from .params import Param, ParamError, resolve

if TYPE_CHECKING:  # matplotlib is slow to import; only the report needs it
    from matplotlib.figure import Figure

LOCUSTFILE = "locustfile.py"


@dataclass(frozen=True)
class LicenseNeed:
    """One license the run needs: `group` is the profile's role for it (e.g. "ratio-10")."""

    group: str
    seats: int
    timeout_minutes: int


@dataclass(frozen=True)
class EarlyEnd:
    """A profile's answer to "is the run's question already answered?": end it at `at`."""

    at: float  # the instant the run is measured up to (epoch seconds, the run's clock)
    reason: str  # one line for the report and the console


class Setup(Protocol):
    """What provisioning offers a profile's `prepare`, on the target of this run."""

    def idle_checkout_latency(self) -> float:
        """Median seconds of a checkout on the idle target (measured on a license of its own)."""
        ...


class Profile(ABC):
    """Subclass it in `profiles/<name>/__init__.py` and set `PROFILE = YourProfile()`."""

    name: ClassVar[str]  # the folder's name with "-" for "_": `seat_race/` is "seat-race"
    help: ClassVar[str]  # one line for `leasecheck load --help`
    summary: ClassVar[str]  # the traffic, for `--param list`
    measures: ClassVar[str]  # what the run shows, for `--param list`
    default_users: ClassVar[int]
    default_duration: ClassVar[float]  # seconds
    params: ClassVar[tuple[Param, ...]]  # every knob; `timeout_minutes` is required
    default_slos: ClassVar[tuple[str, ...]] = ()  # used when no --slo is given
    rate_param: ClassVar[str | None] = None  # open loop: the knob `--rate` sets
    report_section: ClassVar[str | None] = None  # a Jinja template in the folder: this profile's part of report.html
    section_first: ClassVar[bool] = False  # report.html shows the section first (its answer), the run-wide tables after
    window_label: ClassVar[str] = "the measured window"  # what the run-wide figures cover, in the report's words
    labels: ClassVar[tuple[str, ...]] = ()  # the traffic's own names for an endpoint, e.g. "heartbeat (sync)"

    # ------------------------------------------------------------ where it is
    @property
    def folder(self) -> Path:
        """The profile's folder: where the subclass is defined."""
        return Path(inspect.getfile(type(self))).resolve().parent

    @property
    def locustfile(self) -> Path:
        return self.folder / LOCUSTFILE

    @property
    def endpoints(self) -> tuple[str, ...]:
        """What an SLO may name: the lease endpoints and the labels this traffic records."""
        return ENDPOINTS + self.labels

    # ------------------------------------------------------------------ knobs
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def knobs(self, raw: dict[str, str]) -> dict[str, Any]:
        """The defaults overlaid with `--param` values; a bad one is a `ParamError`."""
        return resolve(self.name, self.params, raw)

    def validate(self, params: dict[str, Any], *, duration: float, minute_seconds: float) -> None:
        """Refuse a run that cannot show what the profile measures, saying what would do.
        (Each knob's own range is checked where it is parsed: `params.resolve`.)"""
        lease = int(params["timeout_minutes"]) * minute_seconds
        need = self.shortest_run(params, lease)
        if duration < need:
            raise ParamError(
                f"{self.name} needs --duration of at least {need:g} s with a {lease:g} s lease "
                f"(policy minute {minute_seconds:g} s)"
            )
        self.check(params)

    def shortest_run(self, params: dict[str, Any], lease_seconds: float) -> float:
        """The shortest --duration (s) in which the traffic shows what it measures."""
        return 0.0

    def check(self, params: dict[str, Any]) -> None:
        """Raise `ParamError` for knob values that do not fit together."""
        return None

    # ----------------------------------------------------------- provisioning
    @abstractmethod
    def licenses(self, users: int, params: dict[str, Any], minute_seconds: float) -> list[LicenseNeed]:
        """The licenses to create on the target for this many users and these knobs."""

    def prepare(self, params: dict[str, Any], setup: Setup) -> dict[str, Any]:
        """After provisioning, before locust starts: knobs measured on the target (default: none)."""
        return params

    # ---------------------------------------------------------------- judging
    def findings(self, seen: Observation) -> Findings:
        """This profile's part of the verdict. The default: the generator's health and
        every SLO over the whole window, and `details` for the summary."""
        found = window_findings(seen)
        found.details = self.details(seen)
        return found

    def stop_early(
        self, so_far: MergedRun, params: dict[str, Any], epoch: float, until: float, slos: list[Slo]
    ) -> EarlyEnd | None:
        """Live, while locust runs: end the run now? `so_far` holds every second
        before `until`, merged from every process (`runtime/live.py`). The
        default: never; the step profile ends once its knee is confirmed."""
        return None

    def details(self, seen: Observation) -> dict[str, Any]:
        """What this profile adds to summary.json beyond latency, throughput and invariants."""
        return {}

    # -------------------------------------------------------------- reporting
    def headline(self, summary: dict[str, Any]) -> list[str]:
        """The console lines under the verdict. The default: latency per endpoint."""
        return [f"  {summary['headline']}"] + [
            f"  {label:<22} n={row['count']:<7} p50 {row['p50']:>8} ms  p99 {row['p99']:>8} ms"
            for label, row in list(summary["latency_ms"].items())[:8]
        ]

    def figures(self, summary: dict[str, Any]) -> dict[str, Figure]:
        """Figures of this profile's own for report.html (shown by its `report_section`)."""
        return {}
