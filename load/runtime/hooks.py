"""locust event listeners shared by every leasecheck locustfile.

Importing this module (every profile does, through `users.py`) registers:
the hidden plan option; at init, this process's `Recorder` and its CPU and
event-loop-lag samplers; at test start, on the master or local runner, the
run plan (config from LEASECHECK_LOAD_CONFIG, or under plain `locust -f`
licenses provisioned here); progress lines for the leasecheck runner; and
at test stop and at quit, this process's shard. Workers do not write
shards: they stream their ops to the master (`stream.py`), and the master
collects them at test stop before it writes its own (`collect.py`).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

import gevent
import psutil
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from leasecheck.core.timeutil import is_rfc3339
from leasecheck.load.config import PROGRESS_FILE, SHARDS_ENV, TARGET_ENV, TOKEN_ENV, LoadConfig, write_run_record
from leasecheck.load.profiles.profile import Profile
from leasecheck.load.provision import ProvisioningFailed, build_config

from . import plan as plans
from . import skew
from .collect import Collector
from .recorder import Recorder
from .stream import FLUSH, Streamer

log = logging.getLogger("leasecheck.load")
SAMPLE_SECONDS = 1.0


class _State:
    recorder: Recorder | None = None
    plan: plans.Plan | None = None
    profile: Profile | None = None
    role: str = "local"
    streamer: Streamer | None = None
    collector: Collector | None = None


_state = _State()
skew.apply_from_env()


def use_profile(profile: Profile) -> None:
    """Called by each locustfile at import: the profile whose traffic it is."""
    _state.profile = profile


def recorder() -> Recorder:
    if _state.recorder is None:  # a user outside a locust run (tests): record anyway
        _state.recorder = Recorder(f"adhoc-{os.getpid()}", "local")
    return _state.recorder


def current_plan(environment: Any) -> plans.Plan | None:
    if _state.plan is None:
        _state.plan = plans.read(environment)
    return _state.plan


def process_tag(environment: Any) -> str:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        return f"w{max(runner.worker_index, 0)}"
    return "local"


def _role(runner: Any) -> str:
    if isinstance(runner, MasterRunner):
        return "master"
    if isinstance(runner, WorkerRunner):
        return "worker"
    return "local"


@events.init_command_line_parser.add_listener
def _add_option(parser: Any, **_: Any) -> None:
    plans.add_option(parser)


@events.init.add_listener
def _on_init(environment: Any, runner: Any = None, **_: Any) -> None:
    _state.role = _role(runner)
    # The history checks every timestamp with the spec's date-time rule, whose
    # module loads jsonschema on first use (about half a second of CPU). Paid
    # here, before the first request, it does not stall every greenlet in the
    # opening burst of a run.
    is_rfc3339("1970-01-01T00:00:00Z")
    _state.recorder = Recorder(f"{_state.role}-{os.getpid()}", _state.role)
    if _state.role == "worker":
        _state.streamer = Streamer(runner, _state.recorder)
        runner.register_message(FLUSH, _on_flush, concurrent=True)
    elif _state.role == "master":
        _state.collector = Collector()
        _state.collector.register(runner)
    gevent.spawn(_sample_cpu)
    gevent.spawn(_sample_loop_lag)
    if _state.role != "worker":
        gevent.spawn(_write_progress, environment)
    # Last: gevent's loop caches "now", and nothing yields to the hub between the
    # imports, the warm-ups above and the moment locust arms its --run-time timer
    # from that cached time. Stale by the seconds they took on a busy machine, the
    # timer fires that much early (a short run can end before its first request).
    gevent.get_hub().loop.update_now()


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if _state.role in ("master", "local"):
        config = LoadConfig.from_env() or _self_provision(environment)
        if config is None:
            runner.quit()
            return
        workers = runner.worker_count if _state.role == "master" else 1
        _state.plan = plans.publish(environment, config, runner.target_user_count or config.users, workers)
        if _state.collector is not None:
            _state.collector.begin(Path(config.shard_dir), runner)
    else:
        _state.plan = plans.read(environment)
    plans.reset_user_indexes(environment)
    rec = recorder()
    rec.reset()
    if _state.streamer is not None:
        # one tag per worker of the run, unique across machines (pids are not)
        rec.tag = f"worker-w{max(runner.worker_index, 0)}-{os.getpid()}"
        _state.streamer.start(rec)
    if _state.plan is not None:
        p = _state.plan
        rec.meta = {
            "epoch": p.epoch,
            "end": p.end(),
            "users": p.users,
            "workers": p.workers,
            "profile": p.config.profile,
            "worker_index": getattr(runner, "worker_index", 0),
        }
        from .live import WATCH  # imported here, the module's own imports stay as they were

        WATCH.start(environment, p, _state.profile, rec)


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    if _state.role != "worker":  # a worker's end is the master's FLUSH
        _end(environment)


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    _end(environment)


def _on_flush(environment: Any, msg: Any, **_: Any) -> None:
    """The master's end of the run, on a worker: hand everything over."""
    if _state.streamer is not None and _state.plan is not None:
        _state.streamer.finish(_shard_dir())


def _end(environment: Any) -> None:
    """The master first collects its workers' shards (it must not exit before),
    then every process but a worker writes its own. A worker whose master never
    asked for its history (the master died) keeps it on its own disk."""
    if _state.collector is not None:
        _state.collector.collect(environment.runner)
    if _state.plan is None or _state.recorder is None:
        return
    if _state.streamer is None:
        _state.recorder.dump(_shard_dir())
    elif not _state.streamer.done:
        _state.recorder.dump(_shard_dir())
        log.error("leasecheck: the master did not collect this worker's history; it is in %s", _shard_dir())


def _shard_dir() -> Path:
    """LEASECHECK_LOAD_SHARDS if set, else the run's shard dir."""
    assert _state.plan is not None
    return Path(os.environ.get(SHARDS_ENV) or _state.plan.config.shard_dir)


# ------------------------------------------------------------------ samplers
def _sample_cpu() -> None:
    """This process's CPU (is the generator the bottleneck?) and, on the master or
    local runner, the whole machine's (was anything else competing with the server?)."""
    proc = psutil.Process(os.getpid())
    proc.cpu_percent(None)
    machine = _state.role != "worker"
    if machine:
        psutil.cpu_percent(None)
    while True:
        gevent.sleep(SAMPLE_SECONDS)
        now = time.time()
        recorder().cpu.append((now, proc.cpu_percent(None)))
        if machine:
            recorder().machine_cpu.append((now, psutil.cpu_percent(None)))


def _sample_loop_lag() -> None:
    """How late a 0.1 s sleep wakes up: a saturated generator delays everything."""
    worst, since = 0.0, time.time()
    while True:
        t = time.time()
        gevent.sleep(0.1)
        worst = max(worst, time.time() - t - 0.1)
        if time.time() - since >= SAMPLE_SECONDS:
            recorder().loop_lag.append((time.time(), worst))
            worst, since = 0.0, time.time()


def _write_progress(environment: Any) -> None:
    """One JSON line a second from locust's own aggregated stats (the runner shows it)."""
    while True:
        gevent.sleep(SAMPLE_SECONDS)
        p, runner = _state.plan, environment.runner
        if p is None or runner is None:
            continue
        stats = runner.stats
        denied = sum(e.num_requests for (name, _m), e in stats.entries.items() if name.endswith("[denied]"))
        line = {
            "t": time.time(),
            "elapsed": time.time() - p.epoch,
            "duration": p.config.duration,
            "state": runner.state,
            "users": runner.user_count,
            "requests": stats.total.num_requests,
            "failures": stats.total.num_failures,
            "denied": denied,
            "rps": round(stats.total.current_rps, 1),
            "p99_ms": stats.total.get_current_response_time_percentile(0.99),
        }
        path = Path(p.config.shard_dir) / PROGRESS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")


# ------------------------------------------------------- plain `locust -f`
def _self_provision(environment: Any) -> LoadConfig | None:
    """Plain `locust -f`: provision here from LEASECHECK_TARGET (or --host) and
    LEASECHECK_MANAGEMENT_TOKEN; shards go to LEASECHECK_LOAD_SHARDS."""
    target = os.environ.get(TARGET_ENV) or environment.host
    token = os.environ.get(TOKEN_ENV)
    profile = _state.profile
    if not target or not token or profile is None:
        log.error(
            "leasecheck: set LEASECHECK_TARGET (or --host) and LEASECHECK_MANAGEMENT_TOKEN, "
            "or run through `leasecheck load`"
        )
        return None
    run_id = uuid.uuid4().hex[:10]
    shard_dir = os.environ.get(SHARDS_ENV) or str(Path("reports") / f"locust-{run_id}" / "shards")
    opts = environment.parsed_options
    run_time = getattr(opts, "run_time", None)
    duration = max(1.0, float(run_time) - plans.LEAD_SECONDS) if run_time else profile.default_duration
    users = int(environment.runner.target_user_count or profile.default_users)
    try:
        config = build_config(
            profile=profile,
            target=target.rstrip("/"),
            token=token,
            users=users,
            duration=duration,
            minute_seconds=float(os.environ.get("LEASECHECK_MINUTE_SECONDS", 60)),
            params=profile.defaults(),
            slos=list(profile.default_slos),
            shard_dir=shard_dir,
            run_id=run_id,
        )
    except ProvisioningFailed as exc:
        log.error("leasecheck: %s", exc)
        return None
    write_run_record(Path(shard_dir), config.record())
    log.info(
        "leasecheck: shards in %s; judge them with `leasecheck load %s --judge %s`", shard_dir, profile.name, shard_dir
    )
    return config
