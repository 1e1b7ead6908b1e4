"""Which schemathesis failures are requirement failures, and under which ID.

Every check the run enables (config.CHECKS) has a rule in `RULES`: the
requirement IDs it can fail (the most precise the catalogue has) and a
function that decides one reported failure. A rule may also tolerate a
failure where schemathesis is wrong about an honest server; each tolerated
failure is counted by its reason in the summary, never silently dropped.
Rules judge the request as sent (problems.py), not schemathesis's label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from leasecheck.conformance.accepted import COMMON_LENGTH, LENGTH_LIMIT_REFUSAL
from leasecheck.core.client import Exchange, Http, new_key

from .observation import Observation
from .operations import ACCEPTS, ALWAYS_ALLOWED, KEYED
from .problems import beyond_common_length, only_nulls, problems
from .run import GeneratedRun


@dataclass(frozen=True)
class Reported:
    """One failure a schemathesis check reported on one case."""

    check: str
    title: str
    message: str  # its first line
    case_id: str


@dataclass(frozen=True)
class Context:
    """What a rule may consult: the run so far, and the target to ask once more (AUTH-03).

    `connect` opens a connection to the target the way the run's own scenarios do
    (`Target.new_http`: its TLS trust, proxy, timeout and `--max-rps` gate), so the one
    request a rule sends is a request of the run like any other."""

    run: GeneratedRun
    connect: Callable[[], Http]


@dataclass(frozen=True)
class Fail:
    """A requirement failure: the report's message, then `more`; evidence defaults to the observation."""

    requirement: str
    more: str = ""
    evidence: tuple[Exchange, ...] = ()


@dataclass(frozen=True)
class Tolerate:
    """Not a failure, for this reason; optionally an informative note under a requirement."""

    reason: str
    note: tuple[str, str] | None = None  # (requirement, note)


@dataclass(frozen=True)
class Broken:
    """The run cannot account for this report: an engine error, the generated tests fail."""

    message: str


Verdict = Fail | Tolerate | Broken | None  # None: nothing to say (no requirement names it)
Decide = Callable[[Reported, Observation, Context], Verdict]


@dataclass(frozen=True)
class Rule:
    requirements: tuple[str, ...]  # every ID `decide` can fail
    decide: Decide


# ------------------------------------------------------------------ the rules
def server_error(r: Reported, o: Observation, ctx: Context) -> Verdict:
    """INPUT-04: a 5xx (or no answer at all) for any request, valid or not."""
    return Fail("INPUT-04")


def status_code(r: Reported, o: Observation, ctx: Context) -> Verdict:
    """ENV-04: a status the operation does not document (a 500 shows here too, as the
    Inspector reports it); 429 and 503 are always allowed."""
    if o.status in ALWAYS_ALLOWED:
        return Tolerate("status_code_conformance: 429/503 are always allowed (ENV-04)")
    return Fail("ENV-04")


def envelope(r: Reported, o: Observation, ctx: Context) -> Verdict:
    """ENV-01: the answer's body, Content-Type or headers are not what the operation documents."""
    return Fail("ENV-01")


def rejection(r: Reported, o: Observation, ctx: Context) -> Verdict:
    """A request schemathesis made invalid was accepted: under the first requirement the
    request as sent breaks (problems.ORDER). Tolerated when it is valid as sent
    (schemathesis#2983), when its only flaw is a JSON null in an optional field
    (the facts: read as absent or refused as a wrong type, both honest; a null
    in a required field, a wrong non-null type and a missing field still fail
    INPUT-03), or when it breaks only limits our spec sets (an informative note)."""
    probs = problems(o, ctx.run.auth)
    if not probs:
        return Tolerate("negative_data_rejection: the request as sent is valid (schemathesis#2983)")
    first = probs[0]
    if only_nulls(probs):
        what = "; ".join(p.what for p in probs)
        return Tolerate(
            "negative_data_rejection: a null in an optional field was read as absent (facts: honest)",
            note=("INPUT-03", f"informative: {o.describe()} was accepted with {what}"),
        )
    if first.requirement is None:
        what = "; ".join(p.what for p in probs)
        return Tolerate(
            "negative_data_rejection: only limits our spec sets were broken (no catalogue rule)",
            note=("INPUT-03", f"informative: {o.describe()} was not refused although {what}"),
        )
    return Fail(first.requirement, f" (the request breaks: {first.what})")


def missing_header(r: Reported, o: Observation, ctx: Context) -> Verdict:
    """AUTH-01 when the request left out Authorization, IDEM-01/IDEM-02 when it left out
    the Idempotency-Key its operation requires."""
    if o.sent_header("authorization") is None:
        return Fail("AUTH-01")
    if o.operation in KEYED:
        return Fail(KEYED[o.operation])
    return Broken(f"missing_required_header on {o.operation}: {r.title}")


def ignored_auth(r: Reported, o: Observation, ctx: Context) -> Verdict:
    """A request without valid credentials was accepted: AUTH-01, or AUTH-03 when it replayed
    an accepted request's Idempotency-Key and the same request with a fresh key gets 401 (the
    idempotency cache answered before authentication). Tolerated when the accepted request
    carried our valid key (schemathesis#2462/#2482)."""
    auth = ctx.run.auth
    if o.sent_header("authorization") == auth:
        return Tolerate("ignored_auth: the accepted request carried the valid key (schemathesis#2462)")
    key = o.sent_header("idempotency-key")
    earlier = _accepted_with_key(ctx.run, o, key) if o.operation in KEYED and key else []
    if earlier:
        fresh = resend_without_credentials(o, ctx)
        if fresh.status == 401:
            return Fail(
                "AUTH-03",
                f": a request without valid credentials replaying the Idempotency-Key of an accepted "
                f"request got {o.status}; with a fresh key it gets 401, "
                "so the idempotency cache answers before authentication",
                (earlier[0].exchange, o.exchange, fresh),
            )
    return Fail("AUTH-01")


def unsupported_method(r: Reported, o: Observation, ctx: Context) -> Verdict:
    """INPUT-05 (SHOULD): a method the path does not document is answered 405 with Allow."""
    return Fail("INPUT-05")


def acceptance(r: Reported, o: Observation, ctx: Context) -> Verdict:
    """A valid request was refused: LIFE-01 (checkout), CHK-03 (heartbeat and checkin answer a
    token they never issued as CHK-03 says), SYS-01..04 (system endpoints). Tolerated when the
    request as sent is not valid (the auth header dropped or replaced, schemathesis#2779)."""
    if problems(o, ctx.run.auth):
        return Tolerate("positive_data_acceptance: the request as sent is not valid (schemathesis#2779)")
    long = beyond_common_length(o) if o.status in LENGTH_LIMIT_REFUSAL else None
    if long is not None:
        return Tolerate(
            f"positive_data_acceptance: {o.status} for {long}: a server may limit lengths "
            f"(facts), this spec asks only for {COMMON_LENGTH}"
        )
    return Fail(ACCEPTS[o.operation]) if o.operation in ACCEPTS else None


#: Check name -> rule. The statuses each check accepts are in config.py.
RULES: dict[str, Rule] = {
    "not_a_server_error": Rule(("INPUT-04",), server_error),
    "status_code_conformance": Rule(("ENV-04",), status_code),
    "response_schema_conformance": Rule(("ENV-01",), envelope),
    "content_type_conformance": Rule(("ENV-01",), envelope),
    "response_headers_conformance": Rule(("ENV-01",), envelope),
    "negative_data_rejection": Rule(("AUTH-01", "IDEM-01", "IDEM-02", "INPUT-01", "INPUT-03", "INPUT-02"), rejection),
    "missing_required_header": Rule(("AUTH-01", "IDEM-01", "IDEM-02"), missing_header),
    "ignored_auth": Rule(("AUTH-03", "AUTH-01"), ignored_auth),
    "unsupported_method": Rule(("INPUT-05",), unsupported_method),
    "positive_data_acceptance": Rule(tuple(dict.fromkeys(ACCEPTS.values())), acceptance),
}


# ------------------------------------------------------------------ applying them
def triage(ctx: Context, reported: Iterable[Reported]) -> None:
    """Judge every reported failure in order, into the run's findings, tolerated, notes and errors."""
    run = ctx.run
    by_case = {o.case_id: o for o in run.observations}
    for r in reported:
        run.raw_failures[r.check] += 1
        o = by_case.get(r.case_id)
        rule = RULES.get(r.check)
        if o is None:
            run.errors.append(f"{r.check}: failure on a case with no recorded request ({r.title})")
        elif rule is None:
            run.errors.append(f"unexpected check {r.check!r}: {r.title}")
        else:
            record(run, r, o, rule.decide(r, o, ctx))


def record(run: GeneratedRun, r: Reported, o: Observation, verdict: Verdict) -> None:
    if isinstance(verdict, Fail):
        message = f"[{r.title}] {o.describe()}: {r.message}{verdict.more}"
        kind = f"{r.check}: {r.title} ({o.operation})"
        run.fail(verdict.requirement, kind, message, *(verdict.evidence or (o.exchange,)))
    elif isinstance(verdict, Tolerate):
        run.tolerated[verdict.reason] += 1
        if verdict.note is not None:
            run.notes[verdict.note[0]].append(verdict.note[1])
    elif isinstance(verdict, Broken):
        run.errors.append(verdict.message)


def unanswered(run: GeneratedRun) -> None:
    """INPUT-04: a request the target never answered (timeout, dropped connection)."""
    silent = [o for o in run.observations if o.status is None]
    for o in silent:
        run.fail("INPUT-04", "no answer", f"{o.describe()}: the server gave no answer", o.exchange)
    if run.network_errors and not silent:
        run.fail(
            "INPUT-04",
            "no answer",
            "the server left generated requests unanswered: " + "; ".join(run.network_errors[:3]),
        )


def _accepted_with_key(run: GeneratedRun, o: Observation, key: str | None) -> list[Observation]:
    """Earlier requests of o's operation that carried our valid key and this Idempotency-Key, and were accepted."""
    return [
        p
        for p in run.observations[: o.seq]
        if p.operation == o.operation
        and p.sent_header("idempotency-key") == key
        and p.sent_header("authorization") == run.auth
        and p.exchange.ok
    ]


def resend_without_credentials(o: Observation, ctx: Context) -> Exchange:
    """The request of `o` once more, through the suite's own client: no credentials, a fresh key."""
    ctype = o.sent_header("content-type")
    with ctx.connect() as http:
        return http.request(
            o.exchange.method,
            o.exchange.path,
            content=o.exchange.request_body,
            operation=o.exchange.operation,
            headers={"Content-Type": "application/json" if ctype is None else ctype, "Idempotency-Key": new_key()},
        )
