"""The seats plot draws the pool's size for every profile that has one, the
step profile's million-seat licenses included (on a log axis)."""

from __future__ import annotations

from leasecheck.load.analysis.slo import parse_all
from leasecheck.load.reporting.plots import seats_figure
from leasecheck.load.verdict.judge import Facts, judge


def test_the_seats_plot_has_a_capacity_line_for_step(step_past_knee):
    run = step_past_knee
    html = (run.out / "report.html").read_text()
    assert "Capacity lines: 1000000 seats (each of 10 licenses: step-0, " in html
    judged = judge(run.out / "shards", parse_all(["errors<20%"]), Facts())
    fig = seats_figure(judged.occupancy, judged.summary["window"]["start"])
    assert fig is not None
    ax = fig.axes[0]
    capacity = [line for line in ax.get_lines() if line.get_label().startswith("capacity 1000000")]
    assert capacity and list(capacity[0].get_ydata()) == [1000000, 1000000]
    assert ax.get_ylim()[1] > 1000000 and ax.get_yscale() == "symlog", "the line is on the plot, the seats readable"
