"""What the judge hands a profile, and what a profile hands back.

The judge merges the shards and measures what every run has (the window,
seats in use, the generator's health) into one `Observation`; a profile's
`findings` reads it and answers with `Findings`: what it adds to the
summary, which thresholds it judged, and any reason the run is invalid or
breached. The judge never asks which profile it is judging.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from leasecheck.core.history import History

from .generator import Load, on_time_share, process_load
from .occupancy import Occupancy, Sweep, occupancies
from .shards import MergedRun
from .slo import Slo
from .window import Window, window

#: The mark of a run a profile ended early (`runtime/live.py`): the window ends at its instant.
ENDED = "ended early"


@dataclass(frozen=True)
class Observation:
    """One finished run: the merged shards and what is measured on all of them."""

    run: MergedRun
    window: Window  # the measured window, [epoch, end)
    generator: Load  # the locust processes' CPU over the window
    on_time_share: float | None  # open loop: share of arrivals started on time
    occupancy: dict[str, Occupancy]  # per license name: leases certainly held over time
    licenses: list[dict[str, Any]]  # the run record's licenses (name, seats, group, ...)
    params: dict[str, Any]
    slos: list[Slo]
    epoch: float  # the shared clock origin: synchronised traffic starts here
    end: float
    duration: float
    minute_seconds: float
    users: int
    ended_early: str | None = None  # why the run stopped before its duration (the profile's reason)

    @property
    def history(self) -> History:
        return self.run.history

    @property
    def lease_seconds(self) -> float:
        return int(self.params.get("timeout_minutes", 1)) * self.minute_seconds


@dataclass
class Findings:
    """A profile's part of the verdict. `invalid` and `breached` are one-line reasons."""

    details: dict[str, Any] = field(default_factory=dict)  # summary.json's `profile_details`
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    breached: list[str] = field(default_factory=list)


def observe_run(
    run: MergedRun, record: dict[str, Any], slos: list[Slo], held: Mapping[str, Sweep] | None = None
) -> Observation:
    """Measure what every run has, from the shards and the run record beside them.
    `held`: the model checker's certainly-held sweep per license (`Verdict.held`),
    which the seat occupancy is read from (none given: no seat was counted held)."""
    meta = run.meta
    # The plan's instants, on the timeline the ops were aligned to (the workers kept them on their own clocks).
    shift = run.clocks.plan_offset if meta.get("epoch") else 0.0
    epoch = float(meta.get("epoch") or 0.0) + shift
    end = float(meta.get("end") or 0.0) + shift if meta.get("end") else epoch
    early = next((m for m in sorted(run.marks, key=lambda m: m["t"]) if m["kind"] == ENDED), None)
    if early is not None and epoch < float(early["t"]) < end:
        end = float(early["t"])
    capacity = {lic["name"]: int(lic["seats"]) for lic in record["licenses"]}
    last_seen = max(map(attrgetter("received_at"), run.history.ops), default=end)
    w = window(run, epoch, end)
    return Observation(
        run=run,
        window=w,
        generator=process_load(run, epoch, end),
        on_time_share=on_time_share(w.offered, w.issued),
        occupancy=occupancies(held or {}, capacity, until=max(last_seen, end)),
        licenses=record["licenses"],
        params=record["params"],
        slos=slos,
        epoch=epoch,
        end=end,
        duration=min(float(record["duration"]), end - epoch) if early else float(record["duration"]),
        minute_seconds=float(record["minute_seconds"]),
        users=int(meta.get("users") or record["users"]),
        ended_early=str(early["reason"]) if early else None,
    )
