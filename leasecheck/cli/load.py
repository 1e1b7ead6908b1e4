"""`leasecheck load PROFILE`: locust traffic, judged by the shared history checker.

Bad input ends the command before anything starts, with one line and exit 2
(`UsageFailure`); after a run the exit code is the verdict (see `judge.py`).
"""

from __future__ import annotations

import re
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click

from leasecheck.cli.errors import UsageFailure
from leasecheck.load.analysis.slo import Slo, SloError, parse_all
from leasecheck.load.catalog import PROFILES, Profile, coerce_params, note
from leasecheck.load.config import RUN_RECORD
from leasecheck.load.verdict.judge import EXIT_INVALID, Judgement

_SPAN = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")

EPILOG = """\b
Profiles:
  seat-race        users:seats of 2, 10 and 100 to 1, released together
  churn            sessions at a set rate, some vanish (Little's law)
  heartbeat-storm  every lease heartbeating, in sync then jittered
  thundering-herd  all pause past the lease timeout, return at once
  retry-storm      short timeouts, retries with the same Idempotency-Key
  step             open-loop rate raised step by step: the knee

\b
Exit codes:
  0  passed (no violation, valid run, every --slo held)
  2  bad settings, unreachable target, provisioning refused
  3  SLO breached (step: no step met the SLO)
  4  invariant violated (seat over-allocation or one key, two effects)
  5  run invalid (generator was the bottleneck, locust failed)
"""


def _fail(message: str) -> None:
    raise UsageFailure(message)


def parse_span(text: str, what: str = "--duration") -> float:
    """Seconds from '90', '90s', '2m', '1h30m'."""
    m = _SPAN.match(text.strip().lower()) if text.strip() else None
    if not m or not any(m.groups()):
        _fail(f"{what} {text!r}: use seconds or a span like 30s, 2m, 1h30m")
    assert m is not None
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    seconds = h * 3600 + mi * 60 + s
    if seconds <= 0:
        _fail(f"{what} must be more than 0 seconds")
    return seconds


def _params(profile: Profile, pairs: tuple[str, ...], rate: float | None) -> dict[str, Any]:
    raw: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            _fail(f"--param {pair!r}: write KEY=VALUE")
        raw[key.strip()] = value.strip()
    if rate is not None:
        key = {"churn": "rate", "step": "start_rate"}.get(profile.name)
        if key is None:
            _fail(f"--rate applies to the open-loop profiles (churn, step), not {profile.name}")
        if rate <= 0:
            _fail("--rate must be more than 0")
        raw.setdefault(key, str(rate))
    try:
        return coerce_params(profile, raw)
    except ValueError as exc:
        _fail(str(exc))
        raise


def _feasible(profile: Profile, params: dict[str, Any], duration: float, minute: float, users: int) -> None:
    """Refuse runs too short for what the profile must show, with the duration that would do."""
    lease = int(params["timeout_minutes"]) * minute
    if int(params["timeout_minutes"]) < 1:
        _fail("--param timeout_minutes must be at least 1")
    need = 0.0
    if profile.name == "thundering-herd":
        need = (float(params["steady_leases"]) + float(params["pause_leases"]) + 1) * lease
    elif profile.name == "step":
        need = float(params["step_seconds"])
    elif profile.name == "heartbeat-storm":
        need = 4 * lease * float(params["heartbeat_fraction"])  # two beats in each half
    elif profile.name == "seat-race":
        need = float(params["round_seconds"])
    if duration < need:
        _fail(
            f"{profile.name} needs --duration of at least {need:g} s with a {lease:g} s lease "
            f"(policy minute {minute:g} s)"
        )
    if profile.name == "thundering-herd" and float(params["pause_leases"]) <= 1:
        _fail("--param pause_leases must be more than 1 (the pause must outlast the lease)")
    if profile.name == "seat-race" and not 0 < float(params["hold_min"]) <= float(params["hold_max"]):
        _fail("--param hold_min must be more than 0 and at most hold_max")
    if profile.name in ("churn", "step") and users < 1:
        _fail("--users must be at least 1")


def _target(target: str | None, token: str | None) -> None:
    if target is None:
        return
    u = urlparse(target)
    if u.scheme not in ("http", "https") or not u.hostname:
        _fail(f"--target {target!r} is not an http(s) URL")
    if not token:
        _fail("a target needs --management-token (or LEASECHECK_MANAGEMENT_TOKEN) to provision licenses")


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


@click.command("load", epilog=EPILOG, context_settings={"max_content_width": 100})
@click.argument("profile_name", metavar="PROFILE")
@click.option(
    "--target",
    envvar="LEASECHECK_TARGET",
    help="base URL of the server under test (env LEASECHECK_TARGET); none: start the bundled reference server",
)
@click.option(
    "--management-token",
    envvar="LEASECHECK_MANAGEMENT_TOKEN",
    help="management Bearer token for provisioning (prefer env LEASECHECK_MANAGEMENT_TOKEN)",
)
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
@click.option("--rate", type=float, help="churn: sessions/s; step: cycles/s of the first step")
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
    help="judge shards written earlier (plain locust -f, or from several machines) instead of running",
)
def load(
    profile_name: str,
    target: str | None,
    management_token: str | None,
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
) -> None:
    """Drive a lease API with a locust PROFILE, then judge the whole run's history."""
    profile = PROFILES.get(profile_name)
    if profile is None:
        _fail(f"unknown profile {profile_name!r}; profiles: {', '.join(PROFILES)}")
    assert profile is not None
    if "list" in params:
        _knobs(profile)
    try:
        slos: list[Slo] = parse_all(list(slo_texts) or list(profile.default_slos))
    except SloError as exc:
        _fail(str(exc))
    command = _command_line(profile_name)
    report_dir = report_dir or _default_report_dir(profile.name)
    if judge_dir is not None:
        if not (judge_dir / RUN_RECORD).is_file():
            _fail(f"--judge {str(judge_dir)!r}: no {RUN_RECORD} there (expected a leasecheck shard dir)")
        from leasecheck.load.runner import judge_only

        _finish(judge_only(judge_dir, slos, report_dir, command), report_dir)
    _target(target, management_token)
    minute = minute_seconds if minute_seconds is not None else (60.0 if target else 1.0)
    if not minute > 0:
        _fail("--minute-seconds must be more than 0")
    n_users = users if users is not None else profile.default_users
    if n_users < 1:
        _fail("--users must be at least 1")
    if processes < 0:
        _fail("--processes must be 0 or more")
    if server_workers < 1:
        _fail("--server-workers must be at least 1")
    duration = parse_span(duration_text) if duration_text else profile.default_duration
    knobs = _params(profile, params, rate)
    _feasible(profile, knobs, duration, minute, n_users)

    from leasecheck.load.runner import LoadFailure, LoadSettings, run

    settings = LoadSettings(
        profile=profile,
        target=target.rstrip("/") if target else None,
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
    )
    progress = _Progress()
    try:
        judgement = run(settings, echo=lambda s: click.echo(s, err=True), progress=progress)
    except LoadFailure as exc:
        progress.done()
        _fail(str(exc))
    progress.done()
    _finish(judgement, report_dir)


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
    if s["profile"] == "step":
        _steps(s["profile_details"])
    else:
        for label, row in list(s["latency_ms"].items())[:8]:
            click.echo(f"  {label:<22} n={row['count']:<7} p50 {row['p50']:>8} ms  p99 {row['p99']:>8} ms")
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
    )
    for key, value in profile.defaults.items():
        click.echo(f"  {key:<20} {value!s:<10} {note(profile, key)}")
    raise SystemExit(0)


def _steps(details: dict[str, Any]) -> None:
    click.echo("  step  cycles/s  achieved rps     p50 ms     p99 ms  errors  gen CPU  machine CPU  SLO")
    for r in details.get("steps", []):
        click.echo(
            f"  {r['step']:>4}  {r['offered_cycles_per_s']:>8g}  {r['achieved_rps']:>12}  {r['p50_ms'] or 0:>9}  "
            f"{r['p99_ms'] or 0:>9}  {_pct(r['error_rate']):>6}  {r['generator_cpu'] or 0:>6.0f}%  "
            f"{r.get('machine_cpu') or 0:>10.0f}%  {'ok' if r['passed'] else 'broken'}"
        )
    k = details.get("knee")
    if k:
        click.echo(
            f"  knee: {k['achieved_rps']} requests/s at p99 {k['p99_ms']} ms "
            f"(step {k['step']}, {k['offered_cycles_per_s']:g} cycles/s offered)"
        )
    click.echo(f"  {details.get('reason', '')}")


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.3g}%"
