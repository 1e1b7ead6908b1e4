"""The inventory plan: which licenses a run without management access needs.

Built from the scenarios' own declarations (needs.py), collected the way a
run collects them (the same plugin, `--only` and `-k`), so the plan cannot
drift from what the scenarios take. It says, for the selected scenarios:

- the licenses an inventory must hold: how many of each policy shape
  (max_floating_users, floating_timeout_minutes at this target's minute);
- the requirements no inventory can reach (management access is the
  blocker, whatever the inventory holds);
- given an inventory, what it covers: the run's claims replayed against it
  in the run's order (timeline scenarios first, as they start with the
  session), each license used at most once, as `Inventory.claim` does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

from leasecheck.core.envelope import EVERY_ANSWER
from leasecheck.specs import requirements

from .needs import Need, ScenarioNeeds, needs_of
from .session import ProvidedSettings, keyword_problem, pytest_args
from .settings import Settings
from .target.inventory import TIMEOUT_SLACK, Inventory


class CollectionFailed(Exception):
    """The scenarios could not be collected; the one-line reason."""


class _Collector:
    """A pytest plugin that keeps what a run would run, after `--only` and `-k`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.needs: list[ScenarioNeeds] = []
        self.timelines: set[str] = set()
        self.errors: list[str] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {str(report.longrepr).splitlines()[-1]}")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            self.needs.append(needs_of(item, self.settings))
            if item.get_closest_marker("timeline") is not None:
                self.timelines.add(item.nodeid)


def collect(settings: Settings, keyword: str | None = None) -> tuple[list[ScenarioNeeds], set[str]]:
    """The declarations of every selected scenario, and which of them are timelines.

    A `-k` that pytest cannot parse, or one that selects no scenario, is `CollectionFailed`:
    a run of nothing would judge nothing (and `--only` with it used to pass)."""
    problem = keyword_problem(keyword)
    if problem:
        raise CollectionFailed(problem)
    collector = _Collector(settings)
    args = [*pytest_args(keyword=keyword, terminal=False), "--collect-only"]
    code = pytest.main(args, plugins=[ProvidedSettings(settings), collector])
    if collector.errors:
        raise CollectionFailed("cannot collect the scenarios: " + "; ".join(collector.errors[:3]))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise CollectionFailed(f"cannot collect the scenarios (pytest exit {int(code)}); check -k {keyword!r}")
    if not collector.needs:
        where = f" in area(s) {', '.join(settings.only)}" if settings.only else ""
        what = f"-k {keyword!r}" if keyword else "the selection"
        raise CollectionFailed(f"{what} selects no scenario{where}: nothing would be judged")
    return collector.needs, collector.timelines


@dataclass
class InventoryCoverage:
    """What one inventory lets a run judge."""

    covered: set[str] = field(default_factory=set)  # requirements some runnable scenario declares
    short: Counter[Need] = field(default_factory=Counter)  # licenses missing, by shape


@dataclass
class Plan:
    settings: Settings
    scenarios: list[ScenarioNeeds]
    timelines: set[str] = field(default_factory=set)

    @property
    def selected(self) -> list[str]:
        """What the run judges, in catalogue order: the requirements its scenarios
        declare, and those checked on every answer (envelope.EVERY_ANSWER)."""
        declared = {rid for s in self.scenarios for rid in s.requirements}
        if self.scenarios:
            declared |= EVERY_ANSWER
        return [rid for rid in requirements() if rid in declared]

    def licenses(self) -> Counter[Need]:
        """Every license the runnable scenarios take (a module-shared one once)."""
        out: Counter[Need] = Counter()
        shared: set[str] = set()
        for s in self.scenarios:
            if s.blocker:
                continue
            for need, key in s.licenses:
                if key is not None:
                    if key in shared:
                        continue
                    shared.add(key)
                out[need] += 1
        return out

    def management_only(self) -> dict[str, str]:
        """Requirements every selected scenario of which needs management: id -> why."""
        out: dict[str, str] = {}
        for rid in self.selected:
            mine = [s for s in self.scenarios if rid in s.requirements]
            if rid not in EVERY_ANSWER and all(s.blocker for s in mine):
                out[rid] = sorted({str(s.blocker) for s in mine})[0]
        return out

    def cover(self, inventory: Inventory) -> InventoryCoverage:
        """Replay the run's claims against this inventory (a copy: nothing is used)."""
        inv = Inventory(list(inventory.licenses))
        cov = InventoryCoverage()
        shared: dict[str, bool] = {}
        order = sorted(self.scenarios, key=lambda s: s.nodeid not in self.timelines)
        for s in order:
            if s.blocker:
                continue
            ok = True
            for need, key in s.licenses:
                if key is not None and key in shared:
                    ok = ok and shared[key]
                    continue
                got = inv.claim(need.seats, need.timeout_minutes) is not None
                if key is not None:
                    shared[key] = got
                if not got:
                    cov.short[need] += 1
                ok = ok and got
            if ok:
                cov.covered.update(s.requirements)
        if cov.covered:  # some scenario runs: its answers are inspected
            cov.covered |= EVERY_ANSWER
        return cov


def make_plan(settings: Settings, keyword: str | None = None) -> Plan:
    scenarios, timelines = collect(settings, keyword)
    return Plan(settings, scenarios, timelines)


def render(plan: Plan, inventory: Inventory | None = None) -> list[str]:
    """The plan as a vendor reads it (also what tests build an inventory from)."""
    s = plan.settings
    selected = plan.selected
    areas = ", ".join(s.only) if s.only else "all areas"
    licenses = plan.licenses()
    lines = [
        f"plan for {areas}: {len(plan.scenarios)} scenarios, {len(selected)} requirements; "
        f"one policy minute = {s.minute:g} s",
        f"licenses an inventory needs: {sum(licenses.values())} (each used by one scenario only)",
    ]
    for need, n in sorted(licenses.items(), key=_order):
        lines.append(f"  {n:3d} x {need.describe()}  (accepted: {_accepted(need)})")
    blocked = plan.management_only()
    lines.append(f"need management access whatever the inventory: {len(blocked)} requirements")
    for rid, why in blocked.items():
        lines.append(f"  {rid}: {why}")
    reachable = len(selected) - len(blocked)
    lines.append(f"an inventory with these licenses reaches {reachable} of {len(selected)} requirements")
    if inventory is not None:
        lines += render_coverage(plan, inventory)
    return lines


def render_coverage(plan: Plan, inventory: Inventory) -> list[str]:
    cov = plan.cover(inventory)
    selected, blocked = plan.selected, plan.management_only()
    covered = [rid for rid in selected if rid in cov.covered]
    lines = [
        f"this inventory ({len(inventory.licenses)} licenses) covers {len(covered)} of {len(selected)} requirements"
    ]
    missing = [rid for rid in selected if rid not in cov.covered and rid not in blocked]
    if missing:
        lines.append(f"  {len(missing)} not covered for want of licenses: {', '.join(missing)}")
        for need, n in sorted(cov.short.items(), key=_order):
            lines.append(f"    missing {n} x {need.describe()}")
    if blocked:
        lines.append(f"  {len(blocked)} need management access: {', '.join(blocked)}")
    return lines


def _accepted(need: Need) -> str:
    """The policy timeouts `Inventory.claim` accepts for this ask."""
    if need.seats is None:
        return 'any timeout; write "max_floating_users": null, or "unlimited" in TOML'
    return f"floating_timeout_minutes up to {max(need.timeout_minutes, 1) * TIMEOUT_SLACK}"


def _order(item: tuple[Need, int]) -> tuple[int, int, int]:
    need = item[0]
    return (need.seats is None, need.seats or 0, need.timeout_minutes)
