"""`leasecheck gallery`: run the fault matrix and write the suite's mutation score."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from leasecheck.core.inputs import int_at_least, writable_dir

from .errors import UsageFailure


def _say(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()


@click.command("gallery")
@click.option("--jobs", type=int, default=3, show_default=True, help="Cases run at the same time.")
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports/gallery"),
    show_default=True,
    help="Where mutation-score.md/.json and each case's conformance report go.",
)
@click.option("--case", "names", multiple=True, metavar="NAME", help="Run only this fault or variant (repeatable).")
@click.option(
    "--update-readme",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also replace the generated table in this README.md.",
)
def gallery(jobs: int, report_dir: Path, names: tuple[str, ...], update_readme: Path | None) -> None:
    """Run every fault and honest variant against the suite; write the mutation score.

    Exit 0 when every fault is caught and every variant passes, 1 otherwise."""
    from leasecheck.gallery import matrix, score

    int_at_least(jobs, 1, "--jobs")
    writable_dir(report_dir)
    if update_readme is not None and not (
        update_readme.is_file() and score.README_BEGIN in update_readme.read_text(encoding="utf-8")
    ):
        raise UsageFailure(f"--update-readme {str(update_readme)!r} is not a file with a generated block")
    cases = matrix.all_cases()
    if names:
        unknown = sorted(set(names) - {c.name for c in cases})
        if unknown:
            raise UsageFailure(f"unknown case(s) {', '.join(unknown)}; faults: `leasecheck serve --list-faults`")
        cases = [c for c in cases if c.name in names]
    started = time.monotonic()

    def progress(o: matrix.Outcome) -> None:
        verdict = ("caught" if o.ok else "MISSED") if o.case.kind == "fault" else ("passed" if o.ok else "FAILED")
        _say(
            f"{o.case.kind:<7} {o.case.name:<30} {verdict:<7} exit {o.exit_code} {o.seconds:5.1f} s  "
            f"failed: {', '.join(o.failed) or '-'}" + (f"  error: {o.error}" if o.error else "")
        )

    outcomes = matrix.run_matrix(cases, report_dir, jobs=jobs, on_done=progress)
    doc = score.summary(outcomes, time.monotonic() - started, jobs)
    md, js = score.write_report(doc, report_dir)
    _say(
        f"kill rate {doc['caught']}/{doc['faults']}, variants passed {doc['variants_passed']}/{doc['variants']}, "
        f"wall {doc['wall_seconds']:.0f} s; wrote {md} and {js}"
    )
    if update_readme is not None and not score.replace_readme_block(update_readme, score.markdown(doc)):
        raise UsageFailure(f"{update_readme} has no generated block ({score.README_BEGIN} ... {score.README_END})")
    sys.exit(0 if all(o.ok for o in outcomes) else 1)
