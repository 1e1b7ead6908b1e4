"""From schemathesis's recorders to the run's own records: the one place that reads them.

Each scenario the engine finishes hands over a recorder: the cases it made,
the request and answer of each, and the result of every check on it. Here
they become `Observation`s (a core `Exchange` plus the case's phase, mode and
coverage scenario), in the order the answers arrived, and `Reported`
failures, so that the judging never touches schemathesis's types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from leasecheck.core.client import Exchange
from leasecheck.core.errors import first_line

from .observation import Observation
from .operations import CLIENT_LABEL
from .triage import Reported

if TYPE_CHECKING:
    from schemathesis.engine.recorder import CaseNode, Interaction, ScenarioRecorder

#: What an exchange schemathesis sent but got no answer to says (the recorder keeps no reason).
NO_ANSWER = "no answer (transport error)"


def collect(
    recorders: Iterable[tuple[str, ScenarioRecorder]], operation_ids: Mapping[str, str]
) -> tuple[list[Observation], list[Reported]]:
    """Every request sent (a case without a recorded request never left), numbered in the
    order the answers arrived, and every failed check, in the order the recorders hold them.
    `recorders` are (phase name, recorder); `operation_ids` maps labels to operationIds."""
    by_case: dict[str, Observation] = {}
    reported: list[Reported] = []
    for phase, rec in recorders:
        for case_id, node in rec.cases.items():
            inter = rec.interactions.get(case_id)
            if inter is not None:
                by_case[case_id] = observe(phase, case_id, node, inter, operation_ids)
        for case_id, nodes in rec.checks.items():
            for check in nodes:
                if check.status.value == "failure" and check.failure_info is not None:
                    failure = check.failure_info.failure
                    reported.append(
                        Reported(check.name, failure.title, first_line(failure.message), failure.case_id or case_id)
                    )
    ordered = sorted(by_case.values(), key=lambda o: o.exchange.received_at)
    return [replace(o, seq=i) for i, o in enumerate(ordered)], reported


def observe(
    phase: str, case_id: str, node: CaseNode, inter: Interaction, operation_ids: Mapping[str, str]
) -> Observation:
    """One recorded case as an Observation. Request header names are written as the suite's
    own client writes them (the lease tracker reads `Authorization`)."""
    case = node.value
    req = inter.request
    url = urlsplit(req.uri)
    headers = {_as_written(k): (v[0] if isinstance(v, list) else v) for k, v in req.headers.items()}
    mode, scenario = "positive", None
    if case.meta is not None:
        mode = "negative" if case.meta.generation.mode.is_negative else "positive"
        played = getattr(case.meta.phase.data, "scenario", None)
        scenario = played.value if played is not None else None
    operation = operation_ids.get(case.operation.label, case.operation.label)
    resp = inter.response
    elapsed = resp.elapsed if resp is not None else 0.0
    exchange = Exchange(
        method=req.method,
        path=url.path + (f"?{url.query}" if url.query else ""),
        request_headers=headers,
        request_body=req.body,
        sent_at=inter.timestamp - elapsed,
        received_at=inter.timestamp,
        status=resp.status_code if resp is not None else None,
        response_headers={k.lower(): ", ".join(v) for k, v in resp.headers.items()} if resp is not None else {},
        response_body=resp.content if resp is not None else b"",
        operation=CLIENT_LABEL.get(operation, operation),
        error=None if resp is not None else NO_ANSWER,
        idempotency_key=headers.get("Idempotency-Key"),
    )
    return Observation(
        exchange=exchange,
        operation=operation,
        phase=phase,
        mode=mode,
        scenario=scenario,
        probe=node.parent_id is not None and node.transition is None,
        case_id=case_id,
    )


def _as_written(name: str) -> str:
    """`idempotency-key` -> `Idempotency-Key`."""
    return "-".join(part.capitalize() for part in name.lower().split("-"))
