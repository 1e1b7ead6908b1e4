"""`leasecheck load PROFILE`: locust traffic, judged by the shared history checker.

Bad input ends the command before anything starts, with one line and exit 2
(`UsageFailure` here; a profile's own refusals are core `UsageError`s, which
`cli.errors.guarded` shows the same way); after a run the exit code is the
verdict (see `load/verdict/judge.py`). What a profile is, what its knobs are
and how it is judged come from its folder (`load/profiles/<name>/`): this
module names no profile.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from leasecheck.cli.errors import UsageFailure
from leasecheck.cli.load_roles import Roles, check_roles, role_options
from leasecheck.cli.options import management_token_option, state_dir_option
from leasecheck.core.inputs import int_at_least, positive_finite, target_url, writable_dir
from leasecheck.load import profiles
from leasecheck.load.analysis.slo import Slo, SloError, check_endpoints, parse_all
from leasecheck.load.config import RUN_RECORD, RunRecordError, read_run_record
from leasecheck.load.profiles.profile import Profile
from leasecheck.load.verdict.judge import EXIT_INVALID, Judgement

#: Processes beyond a few per core add no load, only contention; --processes 100000
#: used to fork until the machine stalled.
MAX_PROCESSES = 4 * (os.cpu_count() or 1)
#: Users are greenlets holding a connection and a history each: past this, the
#: generator (not the server) is what the run measures, and memory runs out first.
MAX_USERS = 100_000
#: The longest --duration: a week (a soak test). Far beyond it locust's own timer overflows
#: (99999999999h: an OverflowError after the licenses were provisioned).
MAX_DURATION = 7 * 24 * 3600.0

_SPAN = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")

#: Ctrl-C or SIGTERM (how CI stops a job): locust stopped, licenses revoked, temp files gone.
EXIT_INTERRUPTED = 130

EXIT_CODES = f"""\b
Exit codes:
  0  passed (no violation, valid run, every --slo held)
  2  bad settings, unreachable target, provisioning refused
  3  SLO breached (step: no step met the SLO)
  4  invariant violated (seat over-allocation or one key, two effects)
  5  run invalid (generator was the bottleneck, a worker lost, locust failed)
  {EXIT_INTERRUPTED}  interrupted by Ctrl-C or SIGTERM (locust stopped, licenses revoked; no verdict)
"""


def _epilog() -> str:
    """The profiles as discovered (see load/profiles/__init__.py), then the exit codes."""
    lines = [f"  {p.name:<16} {p.help}" for p in profiles.discover().values()]
    return "\b\nProfiles:\n" + "\n".join(lines) + "\n\n" + EXIT_CODES


class _LoadCommand(click.Command):
    """`--help` lists the profiles found when it is shown: not at import (where a
    broken profile folder could not be reported as one line), and not for other commands."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = _epilog()
        super().format_epilog(ctx, formatter)


def _open_loop() -> list[Profile]:
    return [p for p in profiles.discover().values() if p.rate_param]


def _fail(message: str) -> NoReturn:
    raise UsageFailure(message)


def parse_span(text: str, what: str = "--duration") -> float:
    """Seconds from '90', '90s', '2m', '1h30m'."""
    m = _SPAN.match(text.strip().lower()) if text.strip() else None
    if not m or not any(m.groups()):
        _fail(f"{what} {text!r}: use seconds or a span like 30s, 2m, 1h30m")
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    seconds = h * 3600 + mi * 60 + s
    if seconds <= 0:
        _fail(f"{what} must be more than 0 seconds")
    if seconds > MAX_DURATION:
        _fail(f"{what} must be at most {MAX_DURATION / 3600:g}h ({MAX_DURATION:g} s), not {text.strip()}")
    return seconds


def _params(profile: Profile, pairs: tuple[str, ...], rate: float | None) -> dict[str, Any]:
    raw: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            _fail(f"--param {pair!r}: write KEY=VALUE")
        raw[key.strip()] = value.strip()
    if rate is not None:
        if profile.rate_param is None:
            names = ", ".join(p.name for p in _open_loop())
            _fail(f"--rate applies to the open-loop profiles ({names}), not {profile.name}")
        positive_finite(rate, "--rate")
        raw.setdefault(profile.rate_param, str(rate))
    return profile.knobs(raw)


def _target(target: str | None, token: str | None) -> str | None:
    """The target URL checked as every command checks it (core/inputs.py), with a token."""
    if target is None:
        return None
    target = target_url(target)
    if not token:
        _fail("a target needs --management-token (or LEASECHECK_MANAGEMENT_TOKEN) to provision licenses")
    return target


def _command_line(profile_name: str) -> str:
    """The command as typed, for the reports, with a token given on it blanked out."""
    argv = sys.argv[2:] if sys.argv[1:2] == ["load"] else [profile_name]
    shown = []
    for i, arg in enumerate(argv):
        if i and argv[i - 1] == "--management-token":
            arg = "[REDACTED]"
        elif arg.startswith("--management-token="):
            arg = "--management-token=[REDACTED]"
        shown.append(arg)
    return "leasecheck load " + shlex.join(shown)


def _default_report_dir(profile: str) -> Path:
    return Path("reports") / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-load-{profile}"


class _Progress:
    """One line that rewrites itself on a terminal; a line every few seconds in CI logs."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, line: str) -> None:
        if self.tty:
            click.echo("\r" + line.ljust(110)[:160], nl=False, err=True)
        elif time.monotonic() - self.last >= 5.0:
            self.last = time.monotonic()
            click.echo(line, err=True)

    def done(self) -> None:
        if self.tty:
            click.echo("", err=True)


@click.command("load", cls=_LoadCommand, context_settings={"max_content_width": 100})
@click.argument("profile_name", metavar="PROFILE")
@click.option(
    "--target",
    envvar="LEASECHECK_TARGET",
    help="base URL of the server under test (env LEASECHECK_TARGET); none: start the bundled reference server",
)
@management_token_option("provisioning")
@state_dir_option
@click.option(
    "--minute-seconds", type=float, help="length of one policy minute on the target (default 60; bundled server 1)"
)
@click.option("--users", type=int, help="locust users (open-loop profiles: arrival generators)")
@click.option("--duration", "duration_text", help="measured duration, e.g. 30s, 2m (default: the profile's)")
@click.option(
    "--processes",
    type=int,
    default=0,
    show_default=True,
    help="locust worker processes (locust --processes; 0 = one local process)",
)
@click.option(
    "--slo",
    "slo_texts",
    multiple=True,
    help="threshold, repeatable: p99<50ms, checkout:p95<20ms, errors<0.1%, denials<90%, rps>=200",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="where reports go (default reports/<timestamp>-load-<profile>)",
)
@click.option(
    "--rate",
    type=float,
    help="open-loop profiles: the offered rate (the knob it sets is in the profile's --param list)",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="a profile knob, repeatable; --param list shows the profile's knobs",
)
@click.option(
    "--server-workers", type=int, default=1, show_default=True, help="bundled server only: its worker processes"
)
@click.option(
    "--judge",
    "judge_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="judge shards PROFILE wrote earlier (plain locust -f, or from several machines) instead of running",
)
@role_options
@click.pass_context
def load(
    ctx: click.Context,
    profile_name: str,
    target: str | None,
    management_token: str | None,
    state_dir: Path | None,
    minute_seconds: float | None,
    users: int | None,
    duration_text: str | None,
    processes: int,
    slo_texts: tuple[str, ...],
    report_dir: Path | None,
    rate: float | None,
    params: tuple[str, ...],
    server_workers: int,
    judge_dir: Path | None,
    roles: Roles,
) -> None:
    """Drive a lease API with a locust PROFILE, then judge the whole run's history."""
    profile = profiles.get(profile_name)
    if "list" in params:
        _knobs(profile)
    roles = check_roles(ctx, roles, processes=processes, judging=judge_dir is not None)
    if roles.worker:
        _work(profile, roles)
    try:
        slos: list[Slo] = parse_all(list(slo_texts) or list(profile.default_slos))
        check_endpoints(slos, profile.name, profile.endpoints)
    except SloError as exc:
        _fail(str(exc))
    command = _command_line(profile_name)
    # Absolute from here on: locust runs in a directory of its own, where a relative path names nothing.
    report_dir = writable_dir(report_dir or _default_report_dir(profile.name)).resolve()
    if judge_dir is not None:
        _same_profile(judge_dir, profile.name)
        from leasecheck.load.runner import LoadFailure, judge_only

        try:
            judgement = judge_only(judge_dir, slos, report_dir, command)
        except LoadFailure as exc:  # a damaged shard
            _fail(str(exc))
        _finish(judgement, report_dir)
    target = _target(target, management_token)
    minute = positive_finite(
        minute_seconds if minute_seconds is not None else (60.0 if target else 1.0), "--minute-seconds"
    )
    n_users = users if users is not None else profile.default_users
    int_at_least(n_users, 1, "--users", MAX_USERS)
    int_at_least(processes, 0, "--processes", MAX_PROCESSES)
    int_at_least(server_workers, 1, "--server-workers", MAX_PROCESSES)
    duration = parse_span(duration_text) if duration_text else profile.default_duration
    knobs = _params(profile, params, rate)
    profile.validate(knobs, duration=duration, minute_seconds=minute)
    if target:  # the run's ledger (its licenses, for `leasecheck cleanup` after a kill -9) can be kept
        from leasecheck.core.ledger import LedgerError, usable_state_dir

        try:
            usable_state_dir(state_dir, report_dir)
        except LedgerError as exc:
            _fail(str(exc))
    if target and management_token:  # before any provisioning (core/preflight.py)
        from leasecheck.core.preflight import require_management_token

        require_management_token(target, management_token, timeout=10.0)

    from leasecheck.load.runner import LoadFailure, LoadSettings, run

    settings = LoadSettings(
        profile=profile,
        target=target,
        management_token=management_token,
        minute_seconds=minute,
        users=n_users,
        duration=duration,
        processes=processes,
        slos=slos,
        report_dir=report_dir,
        params=knobs,
        server_workers=server_workers,
        command=command,
        expect_workers=roles.expect_workers or 0,
        master_port=roles.master_port,
        worker_wait=roles.worker_wait,
        state_dir=state_dir,
    )
    from leasecheck.core import interrupts

    progress = _Progress()
    try:
        with interrupts.installed():  # SIGTERM ends the run as Ctrl-C does: the runner cleans up
            judgement = run(settings, echo=lambda s: click.echo(s, err=True), progress=progress)
    except LoadFailure as exc:
        progress.done()
        _fail(str(exc))
    except KeyboardInterrupt:
        progress.done()
        click.echo(
            "leasecheck: interrupted: locust stopped, the run's licenses revoked (on a --target), no verdict",
            err=True,
        )
        raise SystemExit(EXIT_INTERRUPTED) from None
    progress.done()
    _finish(judgement, report_dir)


def _same_profile(judge_dir: Path, name: str) -> None:
    """--judge: the shards' own run record names the profile that recorded them; judging
    them as another (`load churn --judge <seat-race shards>`) used to report "seat-race: PASSED"."""
    shown = repr(str(judge_dir))
    if not (judge_dir / RUN_RECORD).is_file():
        _fail(f"--judge {shown}: no {RUN_RECORD} there (expected a leasecheck shard dir)")
    try:
        recorded = read_run_record(judge_dir)["profile"]
    except RunRecordError as exc:
        _fail(f"--judge {shown}: {exc} (expected a leasecheck shard dir)")
    except (OSError, ValueError) as exc:
        _fail(f"--judge {shown}: {RUN_RECORD} cannot be read: {exc}")
    if recorded != name:
        _fail(
            f"--judge {shown}: the shards were recorded by profile {recorded}, not {name} "
            f"(judge them with `leasecheck load {recorded} --judge ...`)"
        )


def _work(profile: Profile, roles: Roles) -> NoReturn:
    """A worker: users for the master, no provisioning, no report (the master writes it)."""
    from leasecheck.core import interrupts
    from leasecheck.load.worker import WorkerFailure, run_worker

    assert roles.master_host is not None
    try:
        with interrupts.installed():  # SIGTERM stops locust's worker as Ctrl-C does
            code = run_worker(profile, roles.master_host, roles.master_port, echo=lambda s: click.echo(s, err=True))
    except WorkerFailure as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo("leasecheck: interrupted: the locust worker stopped (what it recorded is with the master)", err=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    raise SystemExit(code)


def _finish(judgement: Judgement, report_dir: Path) -> None:
    s = judgement.summary
    click.echo(f"{s['profile']}: {s['verdict'].upper()} (exit {s['exit_code']})")
    violations = s["invariants"]["seat_violations"] + s["invariants"]["idempotency_violations"]
    for v in violations:
        where = f" at {v['instant_rfc3339']}" if v.get("instant_rfc3339") else ""
        click.echo(f"  - {v['kind']}: {v['message']}, license {v['license']}{where}:")
        for lease in v["leases"]:
            until = lease.get("certainly_held_until")
            click.echo(
                f"      {lease['lease']} acknowledged {lease['acknowledged_at']}"
                + (f", certainly held until {until}" if until else "")
                + (f", Idempotency-Key {lease['idempotency_key']}" if lease.get("idempotency_key") else "")
            )
    for reason in s["reasons"][len(violations) :]:
        click.echo(f"  - {reason}")
    for line in judgement.profile.headline(s):
        click.echo(line)
    rates = s["rates"]
    click.echo(
        f"  achieved {s['throughput']['achieved_rps']} req/s; errors {_pct(rates['errors'])}; "
        f"denials {_pct(rates['denials'])} of checkouts"
    )
    for line in s.get("notes", []):
        click.echo(f"  note: {line}")
    click.echo(f"reports: {report_dir.resolve()}")
    raise SystemExit(judgement.exit_code if judgement.exit_code in (0, 3, 4, 5) else EXIT_INVALID)


def _knobs(profile: Profile) -> None:
    click.echo(
        f"{profile.name}: {profile.summary}\nmeasures: {profile.measures}\n"
        f"default --users {profile.default_users}, --duration {profile.default_duration:g}s"
        + (f", --slo {' --slo '.join(profile.default_slos)}" if profile.default_slos else "")
        + (f"; --rate sets {profile.rate_param}" if profile.rate_param else "")
    )
    for p in profile.params:
        click.echo(f"  {p.name:<20} {p.default!s:<10} {p.help}" + (f" ({p.bounds()})" if p.bounds() else ""))
    raise SystemExit(0)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.3g}%"
