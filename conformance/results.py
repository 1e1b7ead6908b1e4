"""End of a run: undo it on the target, judge, write the reports, pick the exit code.

`results.json` is a stable interface (scripts and CI read it): suite version,
target, selection, and per requirement `id`, `level`, `outcome`, tests and
evidence; then what the run exercised (`coverage`), how it behaved as a
guest (`cleanup`, `rate_limited`, `pacing`, `concurrency`). Everything
written passes through the redactor.
"""

from __future__ import annotations

import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leasecheck import __version__
from leasecheck.core.cleanup import CleanupReport
from leasecheck.core.interrupts import stopping
from leasecheck.core.redact import redact_obj
from leasecheck.specs import digest

from .coverage import headline, summary_line
from .settings import DEFAULT_CONCURRENCY
from .state import RunState
from .verdict import Verdict, apply_expected, judge, load_expected_failures, run_outcome

EXIT_PASSED, EXIT_FAILED, EXIT_SETTINGS = 0, 1, 2


def default_report_dir(root: Path = Path("reports")) -> Path:
    return root / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def finish_run(st: RunState, exitstatus: int) -> int | None:
    """Called from pytest_sessionfinish with the plugin's RunState, however the run
    ended (pytest turns Ctrl-C, and the command turns SIGTERM, into an interrupted
    session that still gets here)."""
    cleanup = _end_on_target(st)
    if st.setup_error:
        stop_server(st)
        return EXIT_SETTINGS
    if exitstatus in (3, 4) and not st.tests:  # internal or usage error: pytest reports it
        stop_server(st)
        return None
    released = cleanup.leases_checked_in if cleanup is not None else 0
    s = st.settings
    verdicts = judge(
        list(st.tests.values()),
        st.records,
        selected_areas=set(s.only) or None,
        observed_ok=dict(st.observed_ok),
        deselected=st.deselected,
    )
    honesty = []
    if s.expected_failures:
        honesty = apply_expected(verdicts, load_expected_failures(s.expected_failures))
    # Ctrl-C or SIGTERM: pytest ends the session interrupted (2), but a signal caught on
    # its way (schemathesis's engine ends on one as if done) leaves only the stop flag.
    interrupted = exitstatus == 2 or stopping.is_set()
    outcome = "failed" if interrupted else run_outcome(verdicts)  # interrupted: never a pass
    if interrupted:
        honesty.append("the run was interrupted before every scenario finished")
    results = build_results(st, verdicts, outcome, honesty, released, cleanup=cleanup, interrupted=interrupted)
    st.summary_lines = summary_lines(results)
    st.closing_line = closing_line(results)
    if s.report_dir is not None:
        write_reports(Path(s.report_dir), results)
        st.summary_lines.append(f"reports: {Path(s.report_dir).resolve()}")
    stop_server(st)
    return EXIT_PASSED if outcome == "passed" else EXIT_FAILED


def _end_on_target(st: RunState) -> CleanupReport | None:
    """Check in what the run holds and revoke what it created (not on the bundled
    server, whose database is thrown away). Never raises: the verdict must be written."""
    if st.target is None:
        return None
    try:
        return st.target.end_run(revoke_licenses=not st.settings.bundled)
    except Exception as exc:
        return CleanupReport(problems=[f"cleanup stopped: {exc.__class__.__name__}: {exc}"])


def stop_server(st: RunState) -> None:
    """Close the run's connections and stop the bundled server, if either is there."""
    if st.target is not None:
        st.target.close()
    if st.server is not None:
        st.server.stop()
        st.server = None


def build_results(
    st: RunState,
    verdicts: list[Verdict],
    outcome: str,
    honesty: list[str],
    released: int,
    *,
    cleanup: CleanupReport | None = None,
    interrupted: bool = False,
) -> dict[str, Any]:
    s = st.settings
    honesty = list(honesty) + guest_messages(st, cleanup)
    counts = {o: 0 for o in ("passed", "failed", "warning", "not_run")}
    for v in verdicts:
        counts[v.outcome] += 1
    counts["expected_failures"] = sum(1 for v in verdicts if v.expected_failure)
    results: dict[str, Any] = {
        "schema_version": 1,
        "suite": {
            "name": "leasecheck",
            "version": __version__,
            "spec_digest": digest(),
            "python": platform.python_version(),
        },
        "run_id": s.run_id,
        "started_at": _iso(st.started_at),
        "finished_at": _iso(time.time()),
        "duration_seconds": round(time.time() - st.started_at, 2),
        "target": {
            "url": st.target.base_url if st.target else s.target,
            "bundled": s.bundled,
            "server_version": st.server_version,
            "server_header": st.server_header,
            "minute_seconds": s.minute_seconds,
            "provisioning": "inventory" if s.inventory else "management",
        },
        "selection": {"areas": list(s.only) or "all", "tests": len(st.tests)},
        "outcome": outcome,
        "interrupted": interrupted,
        "counts": counts,
        "messages": honesty,
        "leases_released_at_end": released,
        "cleanup": cleanup.to_json() if cleanup is not None else None,
        "rate_limited": st.target.backoff.to_json() if st.target is not None else None,
        "pacing": {
            "max_rps": s.max_rps,
            "waited_seconds": round(st.target.pacer.waited_seconds, 3)
            if st.target is not None and st.target.pacer is not None
            else 0.0,
        },
        "concurrency": {
            "configured": s.concurrency,
            "default": DEFAULT_CONCURRENCY,
            "reduced": s.concurrency < DEFAULT_CONCURRENCY,
            "scenarios": st.target.races.to_json() if st.target is not None else [],
        },
        "requirements": [v.to_json() for v in verdicts],
        "tests": [
            {
                "nodeid": t.nodeid,
                "outcome": t.outcome,
                "duration": round(t.duration, 3),
                "requirements": t.requirements,
                **({"message": t.message} if t.message else {}),
            }
            for t in st.tests.values()
        ],
    }
    results["coverage"] = st.coverage.to_json(results["requirements"])
    if st.target is not None:
        results["interop"] = st.target.interop.to_json()
    if st.generated:
        results["generated"] = st.generated
    return redact_obj(results)


def guest_messages(st: RunState, cleanup: CleanupReport | None) -> list[str]:
    """Notes on how the run behaved on a shared server, for the verdict."""
    s, out = st.settings, []
    if s.concurrency < DEFAULT_CONCURRENCY:
        out.append(
            f"ran with reduced concurrency: races sent at most {s.concurrency} simultaneous requests "
            f"(default {DEFAULT_CONCURRENCY}); a lost update that needs more contenders may go unseen"
        )
    backoff = st.target.backoff if st.target is not None else None
    if backoff is not None and backoff.answers:
        out.append(
            f"the target answered 429 {backoff.answers} times; the run waited {backoff.waited_seconds:.1f} s "
            f"in all (summed over its connections), as Retry-After asked; a 429 alone is never a failure"
        )
        if backoff.gave_up:
            out.append(
                f"{backoff.gave_up} times the run stopped waiting (retry or time bound reached) "
                "and the 429 became the answer that was judged"
            )
    if cleanup is not None and not cleanup.complete:
        out.append(
            f"cleanup incomplete ({'; '.join(cleanup.problems[:3])}); "
            f"finish it with `leasecheck cleanup --run-id {s.run_id}`"
        )
    return out


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")


def summary_lines(results: dict[str, Any]) -> list[str]:
    c = results["counts"]
    title = headline(results["outcome"], results["coverage"]) if results.get("coverage") else results["outcome"].upper()
    lines = [
        f"{title}: {c['passed']} passed, {c['failed']} failed, "
        f"{c['warning']} warnings, {c['not_run']} not run "
        f"({len(results['requirements'])} requirements, {results['duration_seconds']} s, target {results['target']['url']})"
    ]
    for r in results["requirements"]:
        if r["outcome"] in ("failed", "warning"):
            tag = "FAILED " if r["outcome"] == "failed" else "WARNING"
            if r.get("expected_failure"):
                tag = "XFAIL  "
            why = r["evidence"][0]["message"] if r.get("evidence") else ""
            lines.append(f"{tag} {r['id']} [{r['level']}] {r['title']}: {why}"[:300])
    unselected = 0
    for r in results["requirements"]:
        if r["outcome"] != "not_run" or r["level"] != "MUST":
            continue
        if "not selected" in r.get("reason", ""):
            unselected += 1
        else:
            lines.append(f"NOT RUN {r['id']} [MUST] {r['title']}: {r.get('reason', '')}"[:300])
    if unselected:
        lines.append(f"({unselected} MUST requirements were not selected by this run)")
    lines.extend(f"NOTE    {m}" for m in results.get("messages", []))
    if results.get("coverage"):
        lines.append(summary_line(results["coverage"]))
    lines.extend(interop_lines(results.get("interop")))
    if results.get("cleanup"):
        lines.append(
            f"cleanup: run {results['run_id']}: "
            + CleanupReport(**{k: v for k, v in results["cleanup"].items() if k not in ("complete",)}).line()
        )
    return lines


def closing_line(results: dict[str, Any]) -> str:
    """The run's last line, where pytest would put its count of tests: the verdict,
    in requirements (an excused failure does not make a passed run look failed)."""
    c = results["counts"]
    title = headline(results["outcome"], results["coverage"]) if results.get("coverage") else results["outcome"].upper()
    excused = f" ({c['expected_failures']} excused)" if c.get("expected_failures") else ""
    if results.get("interrupted"):  # the reason it failed, where a reader looks first
        title += ", interrupted"
    return (
        f"leasecheck {title}: {c['passed']} passed, {c['failed']} failed{excused}, {c['warning']} warnings, "
        f"{c['not_run']} not run in {results['duration_seconds']} s"
    )


def interop_lines(interop: dict[str, Any] | None) -> list[str]:
    """One line per official SDK: did every signed answer of the run verify in it, and why not."""
    if not interop:
        return []
    return [f"interop: {t['label']}: {t['verdict']}" for t in interop["sdks"]]


def write_reports(directory: Path, results: dict[str, Any]) -> None:
    from .report import render_html, render_junit

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (directory / "junit.xml").write_text(render_junit(results), encoding="utf-8")
    (directory / "report.html").write_text(render_html(results), encoding="utf-8")
