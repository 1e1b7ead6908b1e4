"""Write `summary.json` (the stable, scriptable verdict) and `report.html`.

Both pass through the redactor. The merged history goes beside them as
`history.jsonl` (leases appear only as `lease_ref`s), next to locust's own
`locust.html` and `locust_*.csv`. The report's figures and sections are the
same for every profile, plus what the profile declares: its `figures` and
its `report_section` (a template in its folder, included as
`profile/<name>`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape

from leasecheck.core.redact import redact_obj
from leasecheck.load.verdict.judge import Judgement

from . import plots


def write_reports(report_dir: Path, judgement: Judgement) -> None:
    summary = redact_obj(judgement.summary)
    (report_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    judgement.run.history.dump(report_dir / "history.jsonl")
    (report_dir / "report.html").write_text(render_html(summary, judgement), encoding="utf-8")


def _figures(summary: dict[str, Any], judgement: Judgement) -> dict[str, str | None]:
    epoch, end = summary["window"]["start"], summary["window"]["end"]
    figs = {
        "seats": plots.seats(judgement.occupancy, epoch, end),
        "latency": plots.latency(judgement.run, epoch),
        "throughput": plots.throughput(judgement.run, epoch),
    }
    for name, fig in judgement.profile.figures(summary).items():
        figs[name] = plots.png(fig)
    return figs


def render_html(summary: dict[str, Any], judgement: Judgement) -> str:
    profile = judgement.profile
    loader = ChoiceLoader(
        [
            PackageLoader("leasecheck.load.reporting", "templates"),
            PrefixLoader({"profile": FileSystemLoader(str(profile.folder))}),
        ]
    )
    env = Environment(loader=loader, autoescape=select_autoescape(["html", "j2"]))
    env.filters["pretty"] = lambda v: json.dumps(v, indent=2, default=str)
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{v * 100:.3g}%"
    section = f"profile/{profile.report_section}" if profile.report_section else None
    return env.get_template("report.html.j2").render(
        s=summary,
        figs=_figures(summary, judgement),
        profile_section=section,
        profile_first=profile.section_first,
        seats_capacity=[f"{size} seats ({names})" for size, names in plots.capacity_lines(judgement.occupancy).items()],
    )
