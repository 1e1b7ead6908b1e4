"""The run so far, on the master (or the local runner): a profile may end it early.

Every process that runs users sends, once a second, the seconds of its
recording it has completed (per-second buckets, arrivals, CPU samples) in
the shard's own encoding; the master (or the local runner, from its own
recorder) adds them into one `MergedRun` with the code the judge merges
shards with (`analysis.shards.add_buckets`), and asks the profile whether
the run's question is already answered (`Profile.stop_early`: the step
profile's knee is confirmed). If it is, the run ends the way `--run-time`
ends it (locust quits its users; every process writes its shard), and a mark
`ENDED` with the instant and the reason goes into the master's shard, so the
judge measures the run up to there and the report says why it stopped.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import gevent
from locust.runners import MasterRunner, WorkerRunner

from leasecheck.core.history import History
from leasecheck.load.analysis.observation import ENDED
from leasecheck.load.analysis.shards import MergedRun, ShardInfo, add_buckets
from leasecheck.load.analysis.slo import parse_all
from leasecheck.load.profiles.profile import Profile

from .plan import Plan
from .recorder import Recorder

log = logging.getLogger("leasecheck.load")
MESSAGE = "leasecheck_live"
INTERVAL = 1.0


@dataclass
class Live:
    """What the deciding process knows of the run so far."""

    run: MergedRun = field(default_factory=lambda: MergedRun(History(), []))
    until: dict[str, float] = field(default_factory=dict)  # per process: every second before it is in `run`
    processes: dict[str, ShardInfo] = field(default_factory=dict)

    def add(self, doc: dict[str, Any]) -> None:
        add_buckets(self.run, doc)
        info = self.processes.get(doc["tag"])
        if info is None:
            info = ShardInfo(doc["tag"], doc["role"], int(doc.get("pid", 0)), 0, 0, [], [], [], {})
            self.processes[doc["tag"]] = info
            self.run.shards.append(info)
        info.cpu.extend(tuple(x) for x in doc.get("cpu", []))
        info.machine_cpu.extend(tuple(x) for x in doc.get("machine_cpu", []))
        info.loop_lag.extend(tuple(x) for x in doc.get("loop_lag", []))
        self.until[doc["tag"]] = float(doc["until"])

    def complete_until(self, processes: int) -> float | None:
        """Every process has sent every second before this instant (None: not all reported yet)."""
        if len(self.until) < max(processes, 1):
            return None
        return min(self.until.values())


def completed(rec: Recorder, since: int, upto: int) -> dict[str, Any]:
    """The seconds [since, upto) of `rec`, encoded as its shard encodes them."""
    bs = rec.bucket_seconds
    lo, hi = since * bs, upto * bs

    def within(samples: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [s for s in samples if lo <= s[0] < hi]

    return {
        "tag": rec.tag,
        "role": rec.role,
        "until": hi,
        "buckets": {
            str(t): {
                k: {
                    "latency": b.latency.encode().decode("ascii"),
                    "outcomes": dict(b.outcomes),
                    "logical": dict(b.logical),
                }
                for k, b in labels.items()
            }
            for t, labels in list(rec.buckets.items())
            if since <= t < upto
        },
        "offered": {str(t): n for t, n in list(rec.offered.items()) if since <= t < upto},
        "issued": {str(t): n for t, n in list(rec.issued.items()) if since <= t < upto},
        "cpu": within(rec.cpu),
        "machine_cpu": within(rec.machine_cpu),
        "loop_lag": within(rec.loop_lag),
    }


class Watch:
    """One locust process's part: send (worker), or gather and decide (master, local)."""

    def __init__(self) -> None:
        self.live = Live()
        self.greenlet: gevent.Greenlet | None = None

    def start(self, environment: Any, plan: Plan, profile: Profile | None, rec: Recorder) -> None:
        """At test start, once the plan is known (on the master before any worker
        has users, so its listener for their seconds is there before the first)."""
        self.stop()
        self.live = Live()
        runner = environment.runner
        if isinstance(runner, MasterRunner) and MESSAGE not in runner.custom_messages:
            runner.register_message(MESSAGE, lambda environment, msg, **_: WATCH.live.add(msg.data))
        if profile is None or type(profile).stop_early is Profile.stop_early:
            return  # a profile that never ends early needs no live view
        self.greenlet = gevent.spawn(self._loop, environment, plan, profile, rec)

    def stop(self) -> None:
        if self.greenlet is not None and self.greenlet is not gevent.getcurrent():
            self.greenlet.kill(block=False)
        self.greenlet = None

    def _loop(self, environment: Any, plan: Plan, profile: Profile, rec: Recorder) -> None:
        runner = environment.runner
        slos = parse_all(plan.config.slos)
        since = math.floor(plan.epoch / rec.bucket_seconds)
        try:
            while time.time() < plan.end():
                gevent.sleep(INTERVAL)
                upto = math.floor(time.time() / rec.bucket_seconds)
                if isinstance(runner, WorkerRunner):
                    runner.send_message(MESSAGE, completed(rec, since, upto))
                    since = upto
                    continue
                if not isinstance(runner, MasterRunner):
                    self.live.add(completed(rec, since, upto))
                    since = upto
                until = self.live.complete_until(plan.workers if isinstance(runner, MasterRunner) else 1)
                if until is None:
                    continue
                end = profile.stop_early(self.live.run, plan.config.params, plan.epoch, until, slos)
                if end is not None:
                    self._end(environment, rec, end.at, end.reason)
                    return
        except Exception:  # the live view is an optimisation: never the reason a run fails
            log.exception("leasecheck: the live view failed; the run goes on to its full duration")

    def _end(self, environment: Any, rec: Recorder, at: float, reason: str) -> None:
        rec.mark(ENDED, at, reason=reason)
        log.info("leasecheck: %s", reason)
        opts = environment.parsed_options
        self.greenlet = None
        if opts is None or getattr(opts, "headless", False):
            environment.runner.quit()  # as --run-time ends a headless run
        else:
            environment.runner.stop()  # the web UI stays up


#: This process's watch: `hooks` starts it at test start, once the plan is known.
WATCH = Watch()
