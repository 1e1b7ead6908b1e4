"""report.html and summary.json of a step run past its knee: a headline that is
true of the whole run, an observed value for every threshold, and the figures
at the knee before the whole sweep's."""

from __future__ import annotations

import re


def test_the_headline_states_the_error_rate_and_what_was_judged(step_past_knee):
    run = step_past_knee
    s, html = run.summary, (run.out / "report.html").read_text()
    errors = s["rates"]["errors"]
    if s["profile_details"]["ended_by"] == "slo":
        assert errors > 0.3, run.explain()  # the steps past the knee shed most arrivals
    assert "every threshold held" not in html
    headline = s["headline"]
    assert f"{errors * 100:.3g}%" in headline and "Errors over the whole sweep" in headline
    for t in s["thresholds"]:
        assert t["slo"] in headline and t["scope"] in headline
    assert headline.replace("<", "&lt;") in html
    assert headline in run.proc.stdout, "the console says it too"


def test_every_threshold_has_an_observed_value(step_past_knee):
    run = step_past_knee
    html = (run.out / "report.html").read_text()
    thresholds = run.summary["thresholds"]
    assert {t["slo"] for t in thresholds} == {"errors<20%", "p99<60s"}
    d = run.summary["profile_details"]
    row = d["knee"] or d["steps"][0]  # no knee (a generator-bound first step on a busy machine): step 1
    where = "at the knee" if d["knee"] else "no step met it; first step"
    for t in thresholds:
        observed = next(c["observed"] for c in row["slo"] if c["slo"] == t["slo"])
        assert t["observed"] == observed and t["observed"] not in ("", "n/a"), t
        assert t["scope"] == f"per step; {where} (step {row['step']})"
        slo = re.escape(t["slo"].replace("<", "&lt;"))
        cell = re.search(rf"<td><code>{slo}</code></td><td>[^<]*</td><td>([^<]*)</td>", html)
        assert cell and cell.group(1) == t["observed"], t


def test_the_figures_at_the_knee_come_first(step_past_knee):
    run = step_past_knee
    html = (run.out / "report.html").read_text()
    knee = run.summary["profile_details"]["knee"]
    steps_table = html.index("<h2>Profile: step</h2>")
    assert steps_table < html.index("<h2>Thresholds</h2>") < html.index("<h2>Latency over the whole sweep")
    rows = re.findall(r'<tr class="(passed|failed)( knee)?"><td>([^<]*)</td><td>(\d+)</td>', html)
    assert [int(step) for *_, step in rows] == [r["step"] for r in run.summary["profile_details"]["steps"]]
    marked = [int(step) for _, k, mark, step in rows if k and mark == "knee ▶"]
    assert marked == ([knee["step"]] if knee else []), rows
    answer = f"Knee: {knee['achieved_rps']} requests/s" if knee else "No knee found."
    assert html.index(answer) < html.index("<h2>Thresholds</h2>")
