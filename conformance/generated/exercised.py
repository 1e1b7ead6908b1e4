"""Which requirements the generated requests exercised: the denominator of every verdict.

A requirement no request exercised is reported `not_run`, never a vacuous
pass. A request exercises the requirements its answer could have broken:
every request INPUT-04 (no 5xx); a wrong-method probe INPUT-05 only; an
answered request of a documented method ENV-01 and ENV-04; a request that
breaks something the requirement its refusal is owed to; a valid one the
requirement its acceptance is owed to. The own checks (invariants.py) count
what they judge themselves.
"""

from __future__ import annotations

from .operations import ACCEPTS, KEYED
from .problems import problems
from .run import GeneratedRun

#: Coverage probes of the request's shape (odd Content-Type): only a 5xx counts.
REQUEST_SHAPE_PROBES = ("unspecified_http_method", "malformed_content_type", "unsupported_content_type")


def count_exercised(run: GeneratedRun) -> None:
    ex = run.exercised
    accepted_keys: set[tuple[str, str | None]] = set()
    for o in run.observations:
        ex["INPUT-04"] += 1
        if not o.documented_method:
            ex["INPUT-05"] += 1
            continue
        if o.status is not None and o.scenario not in REQUEST_SHAPE_PROBES:
            ex["ENV-04"] += 1
            ex["ENV-01"] += 1
        probs = problems(o, run.auth)
        for rid in {p.requirement for p in probs if p.requirement}:
            ex[rid] += 1
        if not probs and o.operation in ACCEPTS:
            ex[ACCEPTS[o.operation]] += 1
        key = (o.operation, o.sent_header("idempotency-key"))
        if o.operation in KEYED and o.exchange.ok and not probs:
            accepted_keys.add(key)
        elif o.probe and key in accepted_keys and o.sent_header("authorization") != run.auth:
            ex["AUTH-03"] += 1  # ignored_auth replayed an accepted request's key without credentials
