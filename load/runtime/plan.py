"""The run plan: what every locust process must agree on, shipped the locust way.

The master (or the single local runner) builds the plan when the test
starts: the shared clock origin `epoch` that synchronised profiles align to
(seat-race rounds, in-sync heartbeats, the herd's pause, step boundaries),
the total user and worker counts, and the `LoadConfig`. It is stored in a
hidden custom option, and locust itself copies custom options into every
spawn message, so workers on this or any other machine receive it before
their first user starts. No file has to reach a remote worker.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import dataclass
from typing import Any

from leasecheck.load.config import LoadConfig

OPTION = "--leasecheck-plan"
DEST = "leasecheck_plan"
#: Users spawn during this lead; synchronised events start at the epoch.
LEAD_SECONDS = 1.0


@dataclass
class Plan:
    epoch: float
    users: int
    workers: int
    config: LoadConfig

    def to_json(self) -> str:
        return json.dumps(
            {
                "epoch": self.epoch,
                "users": self.users,
                "workers": self.workers,
                "config": json.loads(self.config.to_json()),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Plan:
        doc = json.loads(text)
        return cls(
            epoch=doc["epoch"],
            users=doc["users"],
            workers=doc["workers"],
            config=LoadConfig.from_json(json.dumps(doc["config"])),
        )

    def end(self) -> float:
        return self.epoch + self.config.duration


def add_option(parser: Any) -> None:
    parser.add_argument(
        OPTION,
        dest=DEST,
        default="",
        include_in_web_ui=False,
        help="internal: the leasecheck run plan (set by the master at test start)",
    )


def publish(environment: Any, config: LoadConfig, users: int, workers: int) -> Plan:
    # On a whole second: the recorders' per-second buckets then start at the epoch, so a
    # window that starts at a step boundary holds no second of the step before it.
    epoch = float(math.ceil(time.time() + LEAD_SECONDS))
    plan = Plan(epoch=epoch, users=max(users, 1), workers=max(workers, 1), config=config)
    setattr(environment.parsed_options, DEST, plan.to_json())
    return plan


def read(environment: Any) -> Plan | None:
    raw = getattr(environment.parsed_options, DEST, "") if environment.parsed_options else ""
    return Plan.from_json(raw) if raw else None


_counters: dict[int, itertools.count[int]] = {}


def next_user_index(environment: Any, plan: Plan) -> int:
    """A run-wide user index: locust deals users evenly over workers, so
    worker_index + workers * (local sequence) covers 0..users-1 (give or take one)."""
    seq = next(_counters.setdefault(id(environment), itertools.count()))
    worker_index = max(int(getattr(environment.runner, "worker_index", 0)), 0)
    return worker_index + plan.workers * seq


def reset_user_indexes(environment: Any) -> None:
    _counters.pop(id(environment), None)
