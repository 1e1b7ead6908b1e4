"""`leasecheck conformance` and `leasecheck doctor`.

The conformance command is a thin shell over pytest: it validates settings
(exit 2 with one line on any problem), checks the target answers, then runs
the scenario package in-process with the leasecheck plugin.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

from ..core.client import Http, Management, System
from ..core.redact import register_secret
from ..core.timeutil import ServerClock
from .results import default_report_dir
from .settings import Settings, SettingsError
from .target import TargetUnreachable, probe

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
PYTEST_INI = Path(__file__).resolve().parent / "pytest.ini"


def _fail(message: str) -> None:
    from ..cli import UsageFailure
    raise UsageFailure(message)


def target_options(f: Any) -> Any:
    f = click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
                     help="TOML config file ([leasecheck] table); env LEASECHECK_CONFIG")(f)
    f = click.option("--minute-seconds", type=float, help="length of one policy minute on the target (default 60; bundled 1)")(f)
    f = click.option("--inventory", type=click.Path(path_type=Path), help="inventory of pre-made licenses (no management access)")(f)
    f = click.option("--management-token", help="management Bearer token (prefer env LEASECHECK_MANAGEMENT_TOKEN)")(f)
    f = click.option("--target", help="base URL of the server under test (env LEASECHECK_TARGET); none: bundled server")(f)
    return f


@click.command("conformance")
@target_options
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="where to write results.json, junit.xml, report.html (default reports/<timestamp>)")
@click.option("--only", multiple=True, help="run only this requirement area (repeatable)")
@click.option("--expected-failures", type=click.Path(path_type=Path), help="YAML list of {id, reason, expires?}")
@click.option("--concurrency", type=int, help="most simultaneous requests a concurrency scenario sends")
@click.option("--request-timeout", type=float, help="seconds before one request counts as unanswered (default 10)")
@click.option("--seed", type=int, help="seed for generated requests")
@click.option("-k", "keyword", help="pytest -k expression to select scenarios")
@click.option("-v", "--verbose", is_flag=True, help="one line per scenario")
def conformance(config: Path | None, keyword: str | None, verbose: bool, **flags: Any) -> None:
    """Run the conformance suite; exit 0 pass, 1 MUST failure, 2 bad settings or unreachable target."""
    try:
        settings = Settings.load(flags, config=config)
    except SettingsError as exc:
        _fail(str(exc))
    if settings.report_dir is None:
        settings.report_dir = default_report_dir()
    if settings.target:
        try:
            probe(settings.target, timeout=min(settings.request_timeout, 5.0))
        except TargetUnreachable as exc:
            _fail(str(exc))
    raise SystemExit(run_pytest(settings, keyword=keyword, verbose=verbose))


def run_pytest(settings: Settings, *, keyword: str | None = None, verbose: bool = False,
               extra: list[str] | None = None) -> int:
    import pytest

    register_secret(settings.management_token)
    with tempfile.TemporaryDirectory(prefix="leasecheck-") as tmp:
        sfile = Path(tmp) / "settings.json"
        settings.dump(sfile)
        args = [str(SCENARIOS), "-p", "leasecheck.conformance.plugin", "--lc-settings", str(sfile),
                "-c", str(PYTEST_INI), "--rootdir", str(SCENARIOS.parent),
                "-p", "no:cacheprovider", "--import-mode=importlib", "-rN", "--tb=no",
                "-v" if verbose else "-q"]
        if keyword:
            args += ["-k", keyword]
        args += extra or []
        code = int(pytest.main(args))
    return code if code in (0, 1) else 2


@click.command("doctor")
@target_options
def doctor(config: Path | None, **flags: Any) -> None:
    """Check a target before a run: reachable, keys published, token accepted, clock offset."""
    try:
        settings = Settings.load(flags, config=config)
    except SettingsError as exc:
        _fail(str(exc))
    if settings.target is None:
        _fail("doctor needs --target URL (or LEASECHECK_TARGET)")
    ok = True

    def line(good: bool, what: str, detail: str) -> None:
        nonlocal ok
        ok = ok and good
        click.echo(f"{'ok  ' if good else 'FAIL'}  {what:<16} {detail}")

    try:
        health = probe(settings.target, timeout=5.0)
    except TargetUnreachable as exc:
        _fail(str(exc))
    line(health.status == 200, "reachable", f"GET /health -> {health.status} in {health.elapsed * 1000:.0f} ms")
    clock = ServerClock()
    with Http(settings.target, timeout=settings.request_timeout,
              observers=[lambda ex: clock.observe(ex.sent_at, ex.received_at,
                                                  (ex.json or {}).get("meta", {}).get("timestamp")
                                                  if isinstance(ex.json, dict) else None)]) as http:
        keys = System(http).public_keys()
        data = keys.data if isinstance(keys.data, list) else []
        active = [k for k in data if isinstance(k, dict) and k.get("status") == "active" and k.get("algorithm") == "Ed25519"]
        line(keys.status == 200 and bool(active), "public keys",
             f"{len(data)} published, {len(active)} active Ed25519" if keys.status == 200 else keys.describe())
        if settings.management_token:
            register_secret(settings.management_token)
            # An invalid create is refused after authentication: 400/422 means the token
            # was accepted, 401/403 that it was not. Nothing is created.
            ex = http.request("POST", "/api/v1/products", json_body={},
                              headers={"Authorization": f"Bearer {settings.management_token}"})
            line(ex.status in (400, 422), "management token",
                 "accepted" if ex.status in (400, 422) else f"refused ({ex.describe()})")
        elif settings.inventory:
            line(True, "inventory", str(settings.inventory))
        for _ in range(3):
            System(http).health()
    if clock.samples:
        good = abs(clock.offset) < 5
        line(good, "clock offset", f"{clock.offset * 1000:+.0f} ms ± {clock.bound() * 1000:.0f} ms (server - local)")
    else:
        line(False, "clock offset", "no meta.timestamp in answers")
    raise SystemExit(0 if ok else 2)
