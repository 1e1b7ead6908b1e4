"""`leasecheck serve`: run the reference server."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click

from leasecheck.cli.errors import UsageFailure

from .settings import (
    BODY_TIMEOUT_SECONDS,
    HEADER_TIMEOUT_SECONDS,
    KEEP_ALIVE_TIMEOUT_SECONDS,
    TOKEN_ENV,
    VARIANTS,
    Settings,
    SettingsError,
)


def _say(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()


def _list_faults(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from .faults import table

    click.echo(table())
    ctx.exit(0)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on; 0 picks a free one.")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("leasecheck.db"),
    show_default=True,
    help="SQLite database file (created if missing; WAL mode).",
)
@click.option(
    "--management-token",
    envvar=TOKEN_ENV,
    default=None,
    help=f"Bearer token for the management API (or ${TOKEN_ENV}); generated and printed once if absent.",
)
@click.option(
    "--minute-seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="Length of one policy minute in seconds (compress time for tests).",
)
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes sharing the database.")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Ed25519 signing-key file, mode 0600 (default: next to the database, NAME.keys.json).",
)
@click.option(
    "--throttle-every",
    type=int,
    default=0,
    metavar="N",
    help="Answer every Nth request 429 + Retry-After: 1 (to test clients); 0 is off.",
)
@click.option(
    "--header-timeout",
    type=float,
    default=HEADER_TIMEOUT_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="Close a connection whose request line and headers are not complete in time (408 if it sent any).",
)
@click.option(
    "--body-timeout",
    type=float,
    default=BODY_TIMEOUT_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="Close a request whose declared body has not all arrived this long after its headers (408).",
)
@click.option(
    "--keep-alive-timeout",
    type=float,
    default=KEEP_ALIVE_TIMEOUT_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="Close a keep-alive connection idle this long between requests.",
)
@click.option(
    "--max-connections",
    type=int,
    default=0,
    show_default=True,
    metavar="N",
    help="Open connections per worker; over it the longest-idle one is closed, or the new one gets 503. 0: the fd limit minus headroom.",
)
@click.option(
    "--variant",
    default="default",
    show_default=True,
    metavar="NAME",
    help=f"Honest variant: another accepted answer where the spec allows several ({', '.join(VARIANTS)}).",
)
@click.option(
    "--fault",
    default=None,
    metavar="NAME",
    help="Inject one named bug, to test a test suite (see --list-faults). Never for real use.",
)
@click.option(
    "--list-faults",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_list_faults,
    help="Print the fault gallery (name, area, requirements it breaks, bug) and exit.",
)
def serve(
    host: str,
    port: int,
    db_path: Path,
    management_token: str | None,
    minute_seconds: float,
    workers: int,
    key_file: Path | None,
    variant: str,
    fault: str | None,
    throttle_every: int,
    header_timeout: float,
    body_timeout: float,
    keep_alive_timeout: float,
    max_connections: int,
) -> None:
    """Run the bundled reference lease server."""
    from . import runner  # uvicorn is only imported when serving

    if variant not in VARIANTS:
        raise UsageFailure(f"unknown variant {variant!r}; variants are: {', '.join(VARIANTS)}")
    generated = not management_token
    settings = Settings(
        db_path=db_path,
        key_file=key_file,
        management_token=management_token or secrets.token_urlsafe(32),
        minute_seconds=minute_seconds,
        host=host,
        port=port,
        workers=workers,
        throttle_every=throttle_every,
        behaviour=VARIANTS[variant],
        fault=fault or "",
        header_timeout_seconds=header_timeout,
        body_timeout_seconds=body_timeout,
        keep_alive_timeout_seconds=keep_alive_timeout,
        max_connections=max_connections,
    )
    try:
        settings.validate()
        if settings.fault:
            from .faults import warning_line

            click.echo(warning_line(settings.fault), err=True)
            sys.stderr.flush()
        if generated:
            # The one place a secret is printed: so that a newcomer can provision.
            _say(f"leasecheck reference server management token (generated, shown once): {settings.management_token}")
        code = runner.run(settings, _say)
    except SettingsError as exc:
        raise UsageFailure(str(exc)) from None
    sys.exit(code)


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
    import time

    from . import gallery as g

    cases = g.all_cases()
    if names:
        unknown = sorted(set(names) - {c.name for c in cases})
        if unknown:
            raise UsageFailure(f"unknown case(s) {', '.join(unknown)}; faults: `leasecheck serve --list-faults`")
        cases = [c for c in cases if c.name in names]
    started = time.monotonic()

    def progress(o: g.Outcome) -> None:
        verdict = ("caught" if o.ok else "MISSED") if o.case.kind == "fault" else ("passed" if o.ok else "FAILED")
        _say(
            f"{o.case.kind:<7} {o.case.name:<30} {verdict:<7} exit {o.exit_code} {o.seconds:5.1f} s  "
            f"failed: {', '.join(o.failed) or '-'}" + (f"  error: {o.error}" if o.error else "")
        )

    outcomes = g.run_matrix(cases, report_dir, jobs=jobs, on_done=progress)
    doc = g.summary(outcomes, time.monotonic() - started, jobs)
    md, js = g.write_report(doc, report_dir)
    _say(
        f"kill rate {doc['caught']}/{doc['faults']}, variants passed {doc['variants_passed']}/{doc['variants']}, "
        f"wall {doc['wall_seconds']:.0f} s; wrote {md} and {js}"
    )
    if update_readme is not None and not g.replace_readme_block(update_readme, g.markdown(doc)):
        raise UsageFailure(f"{update_readme} has no generated block ({g.README_BEGIN} ... {g.README_END})")
    sys.exit(0 if all(o.ok for o in outcomes) else 1)
