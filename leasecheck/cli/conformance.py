"""`leasecheck conformance` and `leasecheck doctor`.

The conformance command is a thin shell over pytest: it validates settings
(exit 2 with one line on any problem), checks the target answers, then runs
the scenario package in-process with the leasecheck plugin. SIGTERM (how CI
runners stop a job) ends the session like Ctrl-C, so the run still cleans up
after itself and writes its reports. Afterwards it can sign the reports into
a bundle (`--sign`) and compare them with an earlier run (`--baseline`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from leasecheck.cli.errors import UsageFailure
from leasecheck.cli.options import state_dir_option

if TYPE_CHECKING:  # the machinery is imported when a command runs: `--help` stays fast
    from leasecheck.conformance.settings import Settings


def _fail(message: str) -> NoReturn:
    raise UsageFailure(message)


#: What `--target` says in each command's help: conformance falls back to the bundled server, doctor does not.
BUNDLED_WITHOUT_TARGET = "none: the bundled server"
TARGET_REQUIRED = "required"


def target_options(f: Any, without_target: str = BUNDLED_WITHOUT_TARGET) -> Any:
    f = click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML config file ([leasecheck] table); env LEASECHECK_CONFIG",
    )(f)
    f = click.option(
        "--minute-seconds", type=float, help="length of one policy minute on the target (default 60; bundled 1)"
    )(f)
    f = click.option(
        "--inventory", type=click.Path(path_type=Path), help="inventory of pre-made licenses (no management access)"
    )(f)
    f = click.option("--management-token", help="management Bearer token (prefer env LEASECHECK_MANAGEMENT_TOKEN)")(f)
    f = click.option("--target", help=f"base URL of the server under test (env LEASECHECK_TARGET); {without_target}")(f)
    return f


@click.command("conformance")
@target_options
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="where to write results.json, junit.xml, report.html (default reports/<timestamp>)",
)
@click.option("--only", multiple=True, help="run only this requirement area (repeatable)")
@click.option("--expected-failures", type=click.Path(path_type=Path), help="YAML list of {id, reason, expires?}")
@click.option("--concurrency", type=int, help="most simultaneous requests a concurrency scenario sends (default 48)")
@click.option("--max-rps", type=float, help="cap the run's average request rate (requests per second)")
@click.option("--rate-limit-budget", type=float, help="most seconds the run waits out 429 answers in all (default 300)")
@click.option("--run-id", help="name this run (default: random); codes and metadata on the target carry it")
@state_dir_option
@click.option("--server-version", help="what the target runs (e.g. its commit), recorded for `leasecheck diff`")
@click.option("--request-timeout", type=float, help="seconds before one request counts as unanswered (default 10)")
@click.option("--seed", type=int, help="seed for generated requests and exploration (env LEASECHECK_SEED)")
@click.option("--explore-seconds", type=float, help="time budget of the exploration area (default 3)")
@click.option(
    "--generated-examples",
    type=int,
    help="schemathesis examples per operation and phase (default 12; 0 switches generated requests off)",
)
@click.option(
    "--expiry-tolerance",
    type=float,
    help="seconds past lease_expires_at a seat may still be held and pass (default 1)",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="an earlier results.json: print what changed; exit 1 on a new MUST failure, "
    "4 when a MUST requirement it checked is not run now",
)
@click.option(
    "--sign",
    "sign_key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="sign the reports into REPORT_DIR/bundle with this key (see `leasecheck keygen`)",
)
@click.option("-k", "keyword", help="pytest -k expression to select scenarios")
@click.option("-v", "--verbose", is_flag=True, help="one line per scenario")
def conformance(
    config: Path | None, keyword: str | None, verbose: bool, baseline: Path | None, sign_key: Path | None, **flags: Any
) -> None:
    """Run the conformance suite.

    Exit 0 pass, 1 a MUST failure (or the run was interrupted), 2 bad settings or an
    unreachable target, 3 an internal error, 4 with --baseline: a MUST requirement
    the baseline checked is not run now."""
    from leasecheck.conformance.bundle import BundleError, build, load_signing_key
    from leasecheck.conformance.diff import ResultsError, diff_files, load_results, render_text
    from leasecheck.conformance.plan import CollectionFailed, collect
    from leasecheck.conformance.results import default_report_dir
    from leasecheck.conformance.session import run_pytest
    from leasecheck.conformance.settings import Settings, SettingsError
    from leasecheck.core import interrupts
    from leasecheck.core.inputs import writable_dir

    try:
        settings = Settings.load(flags, config=config)
    except SettingsError as exc:
        _fail(str(exc))
    key = None
    try:
        if baseline is not None:
            load_results(baseline)
        if sign_key is not None:
            key = load_signing_key(sign_key)
        if keyword:  # collected as the run will (no request): a bad or empty selection is refused now
            collect(settings, keyword)
    except (ResultsError, BundleError, CollectionFailed) as exc:
        _fail(str(exc))
    if settings.report_dir is None:  # made once everything else is known good: no empty dir left behind
        settings.report_dir = writable_dir(default_report_dir())
    if settings.target:
        _prepare_state_dir(settings)
        preflight(settings)
    with interrupts.installed():  # Ctrl-C and SIGTERM: finish the request in flight, then clean up
        code = run_pytest(settings, keyword=keyword, verbose=verbose)
    report_dir = Path(settings.report_dir)
    if code == 2 or not (report_dir / "results.json").is_file():
        raise SystemExit(code)
    if key is not None:
        try:
            click.echo(f"bundle: {build(report_dir, key)}")
        except BundleError as exc:
            _fail(str(exc))
    if baseline is not None:
        d = diff_files(
            baseline,
            report_dir / "results.json",
            json_out=report_dir / "diff.json",
            junit=report_dir / "diff-junit.xml",
        )
        click.echo(render_text(d), nl=False)
        code = code or d.exit_code()  # a failed run stays 1; a passed one may lose coverage (4)
    raise SystemExit(code)


def preflight(settings: Settings) -> None:
    """Before the first scenario: the target answers, and takes the management token."""
    from leasecheck.core.preflight import TokenRefused, require_management_token
    from leasecheck.core.probe import TargetUnreachable, probe

    assert settings.target is not None
    try:
        probe(settings.target, timeout=min(settings.request_timeout, 5.0))
        if settings.management_token:
            require_management_token(settings.target, settings.management_token, timeout=settings.request_timeout)
    except (TargetUnreachable, TokenRefused) as exc:
        _fail(str(exc))


def _prepare_state_dir(settings: Settings) -> None:
    """The ledger holds license keys and lease tokens: a private dir, never inside the reports."""
    from leasecheck.core.ledger import LedgerError, usable_state_dir

    try:
        usable_state_dir(settings.state_dir, Path(settings.report_dir or "."))
    except LedgerError as exc:
        _fail(str(exc))


@click.command("doctor")
@lambda f: target_options(f, TARGET_REQUIRED)
def doctor(config: Path | None, **flags: Any) -> None:
    """Check a target before a run: reachable, keys published, token accepted, clock offset."""
    from leasecheck.conformance.settings import Settings, SettingsError
    from leasecheck.core.client import Http, System
    from leasecheck.core.preflight import check_management_token
    from leasecheck.core.probe import TargetUnreachable, probe
    from leasecheck.core.redact import redact_text as redact
    from leasecheck.core.timeutil import ServerClock

    try:
        settings = Settings.load(flags, config=config)
    except SettingsError as exc:
        _fail(str(exc))
    if settings.target is None:
        _fail("doctor needs --target URL (or LEASECHECK_TARGET)")
    ok = True

    def line(good: bool | None, what: str, detail: str) -> None:
        """good None: the target did not say (a warning, not a failure)."""
        nonlocal ok
        ok = ok and good is not False
        click.echo(f"{ {True: 'ok  ', False: 'FAIL', None: 'warn'}[good] }  {what:<16} {redact(detail)}")

    try:
        health = probe(settings.target, timeout=5.0)
    except TargetUnreachable as exc:
        _fail(str(exc))
    line(health.status == 200, "reachable", f"GET /health -> {health.status} in {health.elapsed * 1000:.0f} ms")
    clock = ServerClock()
    with Http(
        settings.target,
        timeout=settings.request_timeout,
        observers=[
            lambda ex: clock.observe(
                ex.sent_at,
                ex.received_at,
                (ex.json or {}).get("meta", {}).get("timestamp") if isinstance(ex.json, dict) else None,
            )
        ],
    ) as http:
        keys = System(http).public_keys()
        data = keys.data if isinstance(keys.data, list) else []
        active = [
            k for k in data if isinstance(k, dict) and k.get("status") == "active" and k.get("algorithm") == "Ed25519"
        ]
        line(
            keys.status == 200 and bool(active),
            "public keys",
            f"{len(data)} published, {len(active)} active Ed25519" if keys.status == 200 else keys.describe(),
        )
        if settings.management_token:
            token = check_management_token(http, settings.management_token)  # core/preflight.py
            line(token.accepted, "management token", token.detail)
        elif settings.inventory:
            from leasecheck.cli.plan import inventory_lines

            first, *more = inventory_lines(settings)
            click.echo(f"{'part':<4}  {'inventory':<16} {first}")
            for extra in more:
                click.echo(f"{'':<4}  {'':<16} {extra.strip()}")
        for _ in range(3):
            System(http).health()
    if clock.samples:
        good = abs(clock.offset) < 5
        line(good, "clock offset", f"{clock.offset * 1000:+.0f} ms ± {clock.bound() * 1000:.0f} ms (server - local)")
    else:
        line(False, "clock offset", "no meta.timestamp in answers")
    raise SystemExit(0 if ok else 2)
