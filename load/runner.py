"""One load run end to end: target, licenses, locust, judgement, reports.

locust runs as a subprocess (`python -m locust -f <profile> --headless`,
with `--processes N` for its own master/worker mode): it monkey-patches the
process it lives in, and its fork-based `--processes` needs its own main.
The license keys reach it in a 0600 file in a private temp dir
(LEASECHECK_LOAD_CONFIG), never in the report dir or on a command line.
Its output is redacted into `locust.log`. An interrupt (Ctrl-C, or SIGTERM
once the CLI has installed `core/interrupts.py`) kills locust's process
group, removes that temp dir and revokes the run's licenses on a target
before it propagates; one arriving while licenses are created waits until
they all are, so none is left live.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

from leasecheck import __version__
from leasecheck.core import interrupts
from leasecheck.core.client import Http
from leasecheck.core.errors import first_line
from leasecheck.core.ledger import Ledger, LedgerError, state_dir
from leasecheck.core.lifetime import die_with_parent
from leasecheck.core.redact import redact_text, register_secret
from leasecheck.load.analysis.slo import Slo
from leasecheck.load.analysis.wire import ShardError
from leasecheck.load.config import CONFIG_ENV, PROGRESS_FILE, SHARDS_ENV, LoadConfig, write_run_record
from leasecheck.load.profiles.profile import Profile
from leasecheck.load.provision import Made, ProvisioningFailed, build_config
from leasecheck.load.reporting.report import write_reports
from leasecheck.load.runtime.plan import LEAD_SECONDS
from leasecheck.load.verdict.judge import Facts, Judgement, judge

#: After the run's end: sessions finish their last checkin before locust stops.
TAIL_SECONDS = 2.0
#: What locust's master logs while it waits for workers, and when it gives up.
_WAITING = re.compile(r"Waiting for workers to be ready, (\d+) of (\d+) connected")
_GAVE_UP = "Gave up waiting for workers to connect"


class LoadFailure(Exception):
    """The run cannot start (bad settings, unreachable target, refused provisioning): exit 2."""


@dataclass
class LoadSettings:
    profile: Profile
    target: str | None
    management_token: str | None
    minute_seconds: float
    users: int
    duration: float
    processes: int
    slos: list[Slo]
    report_dir: Path
    params: dict[str, object]
    server_workers: int = 1
    server_args: tuple[str, ...] = ()
    server_env: dict[str, str] = field(default_factory=dict)
    command: str = ""
    expect_workers: int = 0  # --master: locust master for this many --worker processes
    master_port: int = 5557
    worker_wait: float = 600.0  # --master: seconds locust waits for --expect-workers to connect
    state_dir: Path | None = None  # where the run ledger goes (`core/ledger.state_dir`); a --target only


Echo = Callable[[str], None]


def run(settings: LoadSettings, echo: Echo, progress: Echo) -> Judgement:
    # locust runs in a temp dir of its own (cwd): every path it is handed must be absolute.
    settings = replace(settings, report_dir=settings.report_dir.resolve())
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    shard_dir = settings.report_dir / "shards"
    run_id = uuid.uuid4().hex[:10]
    with _target(settings) as (base_url, token, bundled):
        echo(f"target {base_url}{' (bundled reference server)' if bundled else ''}; provisioning licenses")
        # Every license made on the target, the calibration's too, as it is made; on a --target also in
        # a run ledger, for `leasecheck cleanup` after a kill -9 (the bundled server's database is temporary).
        created = Made(None if bundled else _ledger(settings, base_url, run_id))
        try:
            # SIGTERM or Ctrl-C meanwhile (`core/interrupts.py`, installed by the CLI) waits until every
            # license is created and known, so that the `finally` below revokes them all.
            with interrupts.held():
                config = _provision(settings, base_url, token, shard_dir, created, run_id)
            for lic in config.licenses:
                echo(
                    f"  license {lic.name}: {lic.seats} seats, lease {lic.timeout_minutes} min"
                    f" x {settings.minute_seconds:g} s"
                )
            with tempfile.TemporaryDirectory(prefix="leasecheck-load-") as tmp:
                config_file = config.write_private(Path(tmp) / "config.json")
                exit_code = _run_locust(settings, config_file, Path(tmp), shard_dir, progress)
        finally:
            # A guest on someone's server leaves no live license behind: those of the run, the
            # calibration's, and those made before provisioning failed part way.
            if created.ids and not bundled:
                with interrupts.held():  # a second signal during the cleanup waits for it (a third does not)
                    _revoke_licenses(base_url, token, created, run_id, echo)
            elif created.ledger is not None:
                created.ledger.delete()  # nothing was made: nothing to recover
    target = {
        "url": base_url,
        "bundled": bundled,
        "server_workers": settings.server_workers if bundled else None,
        "server_args": list(settings.server_args) if bundled else None,
    }
    facts = Facts(
        processes=settings.expect_workers or settings.processes,
        locust_exit=exit_code,
        target=target,
        command=settings.command,
        locust_request_count=_locust_request_count(settings.report_dir / "locust_stats.csv"),
        never_started=_workers_missing(settings),
    )
    judgement = judge(shard_dir, settings.slos, facts)
    write_reports(settings.report_dir, judgement)
    return judgement


def _ledger(settings: LoadSettings, base_url: str, run_id: str) -> Ledger:
    """The run's ledger (`core/ledger.py`): the licenses it makes, on disk as they are made."""
    try:
        return Ledger.create(
            state_dir(settings.state_dir),
            run_id,
            {
                "target": base_url,
                "started_at": time.time(),
                "suite_version": __version__,
                "provisioning": f"load {settings.profile.name}",
            },
        )
    except LedgerError as exc:
        raise LoadFailure(str(exc)) from None


def _provision(
    settings: LoadSettings, base_url: str, token: str, shard_dir: Path, created: Made, run_id: str
) -> LoadConfig:
    try:
        config = build_config(
            profile=settings.profile,
            target=base_url,
            token=token,
            users=settings.users,
            duration=settings.duration,
            minute_seconds=settings.minute_seconds,
            params=dict(settings.params),
            shard_dir=str(shard_dir),
            slos=[s.text for s in settings.slos],
            run_id=run_id,
            made=created,
        )
    except ProvisioningFailed as exc:
        raise LoadFailure(str(exc)) from None
    # --processes N: locust forks its workers here, so they read this machine's one clock (judge.py)
    write_run_record(shard_dir, {**config.record(), "shared_clock": bool(settings.processes)})
    return config


def _workers_missing(settings: LoadSettings) -> str | None:
    """Why a --master run never started: fewer workers connected than it expected.

    locust's master then gives up after --worker-wait without running a user,
    so "no history" would blame the workers' delivery; say what happened."""
    if not settings.expect_workers:
        return None
    try:
        text = (settings.report_dir / "locust.log").read_text("utf-8", "replace")
    except OSError:
        return None
    if _GAVE_UP not in text:
        return None
    counts = _WAITING.findall(text)
    connected = int(counts[-1][0]) if counts else 0
    return (
        f"the run never started: only {connected} of the {settings.expect_workers} expected workers connected "
        f"to the master within --worker-wait {settings.worker_wait:g} s (start each with "
        f"`leasecheck load PROFILE --worker --master-host HOST --master-port {settings.master_port}`)"
    )


def _revoke_licenses(base_url: str, token: str, made: Made, run_id: str, echo: Echo) -> None:
    """Revoke the run's licenses (the same cleanup a conformance run does); their
    seats then count against nobody, whatever leases locust left held. The ledger goes
    once every one is revoked; otherwise it stays, and the line says how to finish."""
    from leasecheck.core.cleanup import revoke

    with Http(base_url) as http:
        rep = revoke(http, made.ids, token, made.ledger)
    left = ""
    if made.ledger is not None:
        if rep.complete:
            made.ledger.delete()
        else:
            made.ledger.close()
            left = f"; finish with `leasecheck cleanup --run-id {run_id}` (ledger {made.ledger.path})"
    echo(
        f"cleanup: {rep.licenses_revoked} licenses revoked ({rep.licenses_already_final} already final)"
        + "".join(f"; {p}" for p in rep.problems)
        + left
    )


def judge_only(shard_dir: Path, slos: list[Slo], report_dir: Path, command: str) -> Judgement:
    """Judge shards written earlier (plain `locust -f`, or copied from several machines).
    A damaged shard is the user's to mend (a copy cut off): refused, not judged in part."""
    try:
        judgement = judge(shard_dir, slos, Facts(command=command))
    except ShardError as exc:
        raise LoadFailure(f"--judge {str(shard_dir)!r}: {exc}") from None
    report_dir.mkdir(parents=True, exist_ok=True)
    write_reports(report_dir, judgement)
    return judgement


@contextmanager
def _target(settings: LoadSettings) -> Iterator[tuple[str, str, bool]]:
    if settings.target:
        from leasecheck.core.probe import TargetUnreachable, probe

        try:
            probe(settings.target)
        except TargetUnreachable as exc:
            raise LoadFailure(str(exc)) from None
        assert settings.management_token is not None
        yield settings.target, settings.management_token, False
        return
    from leasecheck.core.server_process import ReferenceServer, ServerStartError

    server = ReferenceServer(
        minute_seconds=settings.minute_seconds,
        workers=settings.server_workers,
        extra_args=settings.server_args,
        env=settings.server_env,
    )
    try:
        server.start()
    except ServerStartError as exc:
        server.close()
        raise LoadFailure(f"the bundled reference server did not start: {first_line(str(exc))}") from None
    except BaseException:  # interrupted while it started: stop it all the same
        server.close()
        raise
    register_secret(server.management_token)
    try:
        assert server.base_url is not None
        yield server.base_url, server.management_token, True
    finally:
        server.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def locust_command(settings: LoadSettings, report_dir: Path) -> list[str]:
    run_time = math.ceil(LEAD_SECONDS + settings.duration + TAIL_SECONDS)
    spawn_rate = max(1.0, settings.users / (LEAD_SECONDS * 0.8))
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(settings.profile.locustfile),
        "--headless",
        "-u",
        str(settings.users),
        "-r",
        f"{spawn_rate:g}",
        "-t",
        f"{run_time}s",
        "--only-summary",
        "--csv",
        str(report_dir / "locust"),
        "--html",
        str(report_dir / "locust.html"),
        "--exit-code-on-error",
        "1",
    ]
    if settings.processes:
        # The forked workers reach their master on a port of its own: two runs on one machine
        # (the project's own tests and benchmarks, or two users) on locust's default 5557 swap workers.
        port = str(_free_port())
        cmd += ["--processes", str(settings.processes), "--master-bind-port", port, "--master-port", port]
    if settings.expect_workers:
        cmd += ["--master", "--expect-workers", str(settings.expect_workers)]
        cmd += ["--master-bind-port", str(settings.master_port)]
        cmd += ["--expect-workers-max-wait", f"{settings.worker_wait:g}"]
    return cmd


def _run_locust(settings: LoadSettings, config_file: Path, tmp: Path, shard_dir: Path, progress: Echo) -> int:
    cmd = locust_command(settings, settings.report_dir)
    raw_log = tmp / "locust.log"
    env = {k: v for k, v in os.environ.items() if k != SHARDS_ENV}  # shards go where the judge looks
    env.update({CONFIG_ENV: str(config_file.resolve()), "PYTHONUNBUFFERED": "1"})
    if env.get("PYTHONPATH"):  # relative entries would name folders under its cwd, not ours
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep))
    deadline = time.monotonic() + settings.duration + 180.0 + (settings.worker_wait if settings.expect_workers else 0)
    progress_file = shard_dir / PROGRESS_FILE
    seen = 0
    with raw_log.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp,
            start_new_session=True,
            preexec_fn=die_with_parent,  # a SIGKILLed leasecheck leaves no locust sending load
        )
        try:
            while proc.poll() is None:
                seen = _show_progress(progress_file, seen, settings, progress)
                if time.monotonic() > deadline:
                    os.killpg(proc.pid, signal.SIGKILL)
                    break
                with suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.5)
        except BaseException:  # SIGTERM or Ctrl-C (a KeyboardInterrupt): leave no locust behind
            with suppress(ProcessLookupError):  # unreaped, the group id is still our child's
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        code = proc.wait()
    _show_progress(progress_file, seen, settings, progress)
    text = raw_log.read_text("utf-8", "replace")
    (settings.report_dir / "locust.log").write_text(f"$ {shlex.join(cmd)}\n" + redact_text(text), encoding="utf-8")
    _redact_locust_outputs(settings.report_dir)
    return code


def _show_progress(path: Path, seen: int, settings: LoadSettings, progress: Echo) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return seen
    for line in lines[seen:]:
        try:
            p = json.loads(line)
        except ValueError:
            continue
        elapsed = max(0.0, min(p["elapsed"], p["duration"]))
        denied = p["denied"]
        share = f" ({denied / p['requests'] * 100:.0f}%)" if p["requests"] else ""
        progress(
            f"[{settings.profile.name}] {elapsed:5.1f}/{p['duration']:g} s  users {p['users']}  "
            f"{p['rps']:.0f} req/s  requests {p['requests']}  denials {denied}{share}  "
            f"failures {p['failures']}  p99 {p['p99_ms'] or 0:.0f} ms"
        )
    return len(lines)


def _redact_locust_outputs(report_dir: Path) -> None:
    """locust's own CSV and HTML pass through the redactor like everything else we write."""
    for path in report_dir.glob("locust*"):
        if path.is_file() and path.suffix in (".csv", ".html"):
            text = path.read_text("utf-8", "replace")
            clean = redact_text(text)
            if clean != text:
                path.write_text(clean, encoding="utf-8")


def _locust_request_count(stats_csv: Path) -> int | None:
    try:
        with stats_csv.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("Name") == "Aggregated":
                    return int(row["Request Count"])
    except (FileNotFoundError, KeyError, ValueError):
        return None
    return None
