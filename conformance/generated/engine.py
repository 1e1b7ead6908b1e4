"""Generated requests: schemathesis against the target, every finding under a requirement ID.

`run_generated(target, fixture)` drives schemathesis 4.x from
`specs/openapi.yaml` against the server under test with one license (a large
pool: fuzzing never checks leases in), through the schemathesis engine, the
same one its CLI uses:

- phases: examples, coverage (boundary values, missing headers, unknown
  fields, wrong methods), fuzzing (positive and negative), and stateful
  sequences through the OpenAPI links (checkout's `lease_token` into
  heartbeat and checkin), built by the engine from `schema.as_state_machine()`'s
  machinery; management operations are excluded;
- repeatable: fixed seed (`settings.seed`), `generation.deterministic`, no
  example database, no shrinking, no schemathesis cache, `max-examples` =
  `settings.generated_examples`, a bounded number of stateful steps, one
  worker, and a wall-clock guard that stops the engine;
- `continue-on-failure`: one failing case never hides the next, every failure
  is collected from the engine's recorders and judged afterwards.

Every generated exchange is also handed to the suite's universal inspection
(envelopes, signatures, request ids) and lease tracker, as the suite's own
exchanges are; the leases the run still holds are checked in when it ends.

A fresh `Idempotency-Key` is set on every call that carries a valid one (a
global `before_call` hook, registered only for the run and only acting on our
schema); a case that omits the header or makes it invalid is left alone, so
`missing_required_header` and `negative_data_rejection` keep their point.

How findings map to requirement IDs (the most precise ID the catalogue has):

| schemathesis check (or own check)  | requirement | notes |
|------------------------------------|-------------|-------|
| not_a_server_error                 | INPUT-04 | a 5xx, or no answer at all (timeout, dropped connection) |
| status_code_conformance            | ENV-04   | 429 and 503 always allowed; a 500 shows here too, as the Inspector reports it |
| response_schema_conformance        | ENV-01   | |
| content_type_conformance           | ENV-01   | |
| response_headers_conformance       | ENV-01   | |
| negative_data_rejection            | by what the request *as sent* breaks (first of): | |
|   no `Authorization: License <key>`| AUTH-01  | |
|   no Idempotency-Key               | IDEM-01 (checkout), IDEM-02 (checkin) | |
|   body absent or not JSON          | INPUT-01 | |
|   wrong type, missing field        | INPUT-03 | also a body that is not an object |
|   unknown field                    | INPUT-02 | |
|   only length/pattern/format limits| none     | an informative note: the catalogue fixes no limits, honest servers differ |
| missing_required_header            | AUTH-01 (Authorization), IDEM-01 / IDEM-02 (Idempotency-Key) | |
| ignored_auth                       | AUTH-03 or AUTH-01 | AUTH-03 when the accepted probe replayed an accepted request's Idempotency-Key and the same request with a fresh key gets 401 (the idempotency cache answered before auth) |
| unsupported_method                 | INPUT-05 (SHOULD) | 405 with Allow |
| positive_data_acceptance           | LIFE-01 (checkout), CHK-03 (heartbeat, checkin: tokens it never issued), SYS-01 (health, healthz), SYS-02 (readyz), SYS-03 (metrics), SYS-04 (public keys) | |
| own: checkout 422 for a request with a binding identity; 403/409 while fewer leases than seats were ever granted | LIFE-01 | |
| own: heartbeat/checkin 200 for a token no checkout returned | CHK-03 | |
| own: heartbeat 200 after that lease's checkin answered 200  | LIFE-03 | |
| own: a second checkin (new key) answering other than 200/404/409 | CHK-02 | |
| own: a heartbeat answering an expiry earlier than one already given | TIME-02 | 1 s rounding tolerance |
| own: license_id / license_type differing between answers (or from the license made) | LIFE-05 | |

The own checks run over all phases' exchanges in the order they happened, so
they hold however often the links were applied. Statuses schemathesis is
told to accept: positive checkout 2xx/403/409/422 (over capacity, business
validation; then narrowed by the own LIFE-01 check), positive heartbeat and
checkin 2xx/404/409/422 (CHK-03's answers), system 2xx; negative
400/401/413/422; a missing Idempotency-Key 400/422. 429 is always accepted;
5xx is left to not_a_server_error, so a 500 is not also an acceptance or a
rejection failure.

Where schemathesis is wrong about an honest server the failure is dropped
precisely and counted under `tolerated` in the summary:
- a "negative" case whose request as sent is valid by our schemas (link data
  merged into a negative stateful case, schemathesis#2983; a mutation that
  became valid on the wire) is not a rejection failure;
- a "positive" case whose request as sent is not valid (the auth header
  dropped or replaced, schemathesis#2779) is not an acceptance failure, nor
  is an `ignored_auth` report whose accepted request carried our valid key
  (schemathesis#2462/#2482).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from leasecheck.core.client import Exchange, Http
from leasecheck.core.envelope import Inspector
from leasecheck.core.timeutil import parse_rfc3339
from leasecheck.specs import OPENAPI_PATH, openapi
from leasecheck.specs.validate import validator

from .target import LicenseFixture, Target

#: Operations the generated run exercises (the spec's operationIds, the official contract's);
#: management is provisioning only.
RUNTIME = ("checkoutFloatingLicense", "heartbeatFloatingLicense", "checkinFloatingLicense")
CHECKOUT_OP, HEARTBEAT_OP, CHECKIN_OP = RUNTIME
SYSTEM = ("listPublicKeys", "health", "healthz", "readyz", "getMetrics")
#: operationId -> the label leasecheck.core.client gives the same call (`Exchange.operation`):
#: the lease tracker and the signature inspection key on that label.
CLIENT_LABEL = {CHECKOUT_OP: "checkout", HEARTBEAT_OP: "heartbeat", CHECKIN_OP: "checkin"}
KEYED = {CHECKOUT_OP: "IDEM-01", CHECKIN_OP: "IDEM-02"}  # operations that require an Idempotency-Key
BODY_SCHEMA = {CHECKOUT_OP: "CheckoutRequest", HEARTBEAT_OP: "LeaseTokenRequest", CHECKIN_OP: "LeaseTokenRequest"}
#: Which requirement a valid request refused names, per operation.
ACCEPTS = {
    CHECKOUT_OP: "LIFE-01",
    HEARTBEAT_OP: "CHK-03",
    CHECKIN_OP: "CHK-03",
    "health": "SYS-01",
    "healthz": "SYS-01",
    "readyz": "SYS-02",
    "getMetrics": "SYS-03",
    "listPublicKeys": "SYS-04",
}
ALWAYS_ALLOWED = (429, 503)  # ENV-04: any operation may answer these
SECOND_CHECKIN = (200, 404, 409)  # CHK-02's answers
CONTAINER_FIELDS = ("cluster_id", "namespace", "pod_name", "container_id")
IDEMPOTENCY_KEY_MAX = 255
STATEFUL_MAX_STEPS = 6
#: Coverage probes of the request's shape (wrong method, odd Content-Type): only a 5xx counts.
REQUEST_SHAPE_PROBES = ("unspecified_http_method", "malformed_content_type", "unsupported_content_type")
EXPIRY_ROUNDING = 1.0  # seconds: TIME-01's tolerance, reused for TIME-02
#: Every requirement this module can judge, in the order the tests report them.
REQUIREMENTS = (
    "INPUT-04",
    "ENV-04",
    "ENV-01",
    "INPUT-01",
    "INPUT-02",
    "INPUT-03",
    "IDEM-01",
    "IDEM-02",
    "AUTH-01",
    "AUTH-03",
    "LIFE-01",
    "CHK-03",
    "SYS-01",
    "SYS-02",
    "SYS-03",
    "SYS-04",
    "LIFE-03",
    "LIFE-05",
    "TIME-02",
    "CHK-02",
    "INPUT-05",
)
#: Checks run; everything else schemathesis offers is switched off. use_after_free and
#: ensure_resource_availability mean nothing for RPC-style POST paths: the own invariants
#: (LIFE-03, CHK-02, CHK-03) express those ideas.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "ignored_auth",
    "unsupported_method",
)
_OFF = ("use_after_free", "ensure_resource_availability", "object_level_authorization", "allow_header_conformance")


# ------------------------------------------------------------------ records
@dataclass
class Observed:
    """One request the generated run sent (including schemathesis's probes) and its answer."""

    seq: int
    case_id: str
    phase: str
    operation: str  # operationId of the operation the case was generated for
    method: str
    path: str
    headers: dict[str, str]  # as sent, lower-case names
    body: bytes | None
    timestamp: float
    status: int | None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    elapsed: float = 0.0
    mode: str = "positive"  # schemathesis's view: positive | negative
    scenario: str | None = None  # coverage scenario, when the coverage phase made it
    probe: bool = False  # sent by a check (e.g. ignored_auth), not generated

    @property
    def documented_method(self) -> bool:
        return self.scenario != "unspecified_http_method"

    def json(self) -> Any:
        try:
            return json.loads(self.response_body) if self.response_body else None
        except ValueError:
            return None

    def data(self) -> Any:
        body = self.json()
        return body.get("data") if isinstance(body, dict) else None

    def request_json(self) -> tuple[bool, Any]:
        """(parsed, value): whether the request body is JSON at all, and its value."""
        if not self.body:
            return False, None
        try:
            return True, json.loads(self.body)
        except ValueError:
            return False, None

    def lease_token_sent(self) -> str | None:
        ok, body = self.request_json()
        tok = body.get("lease_token") if ok and isinstance(body, dict) else None
        return tok if isinstance(tok, str) else None

    def exchange(self) -> Exchange:
        # Header names as the suite's own client writes them (the lease tracker reads "Authorization").
        headers = {"-".join(part.capitalize() for part in k.split("-")): v for k, v in self.headers.items()}
        return Exchange(
            method=self.method,
            path=self.path,
            request_headers=headers,
            request_body=self.body,
            sent_at=self.timestamp - self.elapsed,
            received_at=self.timestamp,
            status=self.status,
            response_headers=dict(self.response_headers),
            response_body=self.response_body,
            operation=CLIENT_LABEL.get(self.operation, self.operation),
            error=None if self.status is not None else "no answer (transport error)",
            idempotency_key=self.headers.get("idempotency-key"),
        )

    def error_code(self) -> str | None:
        body = self.json()
        err = body.get("error") if isinstance(body, dict) else None
        code = err.get("code") if isinstance(err, dict) else None
        return code if isinstance(code, str) else None

    def describe(self) -> str:
        tail = "no answer" if self.status is None else f"{self.status} {self.error_code() or ''}".strip()
        return f"{self.method} {self.path} -> {tail} ({self.phase}, {self.mode}{', ' + self.scenario if self.scenario else ''})"


@dataclass
class Finding:
    """A failed observation under one requirement."""

    requirement: str
    kind: str  # groups findings for the report, e.g. "not_a_server_error: Server error"
    message: str
    observed: list[Observed]


@dataclass
class GeneratedRun:
    """Everything one generated run saw, judged per requirement."""

    fixture: LicenseFixture
    observed: list[Observed] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    exercised: Counter = field(default_factory=Counter)  # requirement -> observations judged
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    tolerated: Counter = field(default_factory=Counter)  # why a schemathesis failure was dropped
    raw_failures: Counter = field(default_factory=Counter)  # check name -> failures schemathesis reported
    errors: list[str] = field(default_factory=list)  # engine errors: the run could not complete
    network_errors: list[str] = field(default_factory=list)  # requests the target never answered
    stopped_early: bool = False
    wall_seconds: float = 0.0
    seed: int = 0
    max_examples: int = 0

    def failed(self, rid: str) -> list[Finding]:
        return [f for f in self.findings if f.requirement == rid]

    def fail(self, rid: str, kind: str, message: str, *observed: Observed) -> None:
        self.findings.append(Finding(rid, kind, message, list(observed)))

    def summary(self) -> dict[str, Any]:
        """The coverage summary results.json carries under `generated`."""
        statuses: dict[str, Counter] = defaultdict(Counter)
        wrong_method: dict[str, Counter] = defaultdict(Counter)
        probed_methods: set[str] = set()
        phases: Counter = Counter()
        for o in self.observed:
            phases[o.phase] += 1
            key = "none" if o.status is None else str(o.status)
            if o.documented_method:
                statuses[o.operation][key] += 1
            else:
                wrong_method[o.operation][key] += 1
                probed_methods.add(o.method)
        documented = _documented_statuses()
        not_seen = {
            op: sorted(s for s in documented.get(op, ()) if str(s) not in statuses.get(op, {}))
            for op in (*RUNTIME, *SYSTEM)
        }
        return {
            "seed": self.seed,
            "max_examples": self.max_examples,
            "wall_seconds": round(self.wall_seconds, 3),
            "cases_run": len(self.observed),
            "cases_by_phase": dict(phases),
            "statuses": {op: dict(sorted(c.items())) for op, c in sorted(statuses.items())},
            "unsupported_methods": {
                "methods": sorted(probed_methods),
                "statuses": {op: dict(sorted(c.items())) for op, c in sorted(wrong_method.items())},
            },
            "documented_not_seen": {op: v for op, v in not_seen.items() if v},
            "failures_by_check": dict(sorted(self.raw_failures.items())),
            "failures_by_requirement": dict(sorted(Counter(f.requirement for f in self.findings).items())),
            "tolerated": dict(sorted(self.tolerated.items())),
            "exercised": dict(sorted(self.exercised.items())),
            "stopped_early": self.stopped_early,
            "errors": self.errors[:10],
            "network_errors": self.network_errors[:10],
        }


def _documented_statuses() -> dict[str, list[int]]:
    out = {}
    for item in openapi()["paths"].values():
        for _method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                out[op["operationId"]] = sorted(int(s) for s in op.get("responses", {}) if s.isdigit())
    return out


# ------------------------------------------------------------------ configuration
def schemathesis_config(target: Target, fixture: LicenseFixture, *, seed: int, max_examples: int) -> dict[str, Any]:
    """The schemathesis configuration (the dict form of schemathesis.toml) for one run."""
    negative = ["400", "401", "413", "422", "429", "5xx"]
    checks: dict[str, Any] = {name: {"enabled": False} for name in _OFF}
    checks.update({name: {"enabled": True} for name in CHECKS})
    checks["negative_data_rejection"]["expected-statuses"] = negative
    checks["missing_required_header"]["expected-statuses"] = ["400", "422", "429"]
    checks["positive_data_acceptance"]["expected-statuses"] = ["2xx", "429", "5xx"]

    def op(op_id: str, **check_overrides: list[str]) -> dict[str, Any]:
        return {
            "include-operation-id": op_id,
            "checks": {name: {"expected-statuses": v} for name, v in check_overrides.items()},
        }

    operations = [
        # Over capacity (403/409, CAP-02) and business validation (422: no binding identity,
        # a container without identity, INPUT-07) are honest answers to schema-valid bodies;
        # the own LIFE-01 check narrows them afterwards.
        op(CHECKOUT_OP, positive_data_acceptance=["2xx", "403", "409", "422", "429", "5xx"]),
        op(HEARTBEAT_OP, positive_data_acceptance=["2xx", "404", "409", "422", "429", "5xx"]),
        op(CHECKIN_OP, positive_data_acceptance=["2xx", "404", "409", "422", "429", "5xx"]),
        # readyz documents 503 (not ready); it is not a server error there.
        op("readyz", not_a_server_error=["2xx", "3xx", "4xx", "503"]),
    ]
    return {
        "seed": seed,
        "suppress-health-check": ["all"],  # a slow target must not turn into a generation error
        "cache": {"enabled": False},  # the on-disk cache replays earlier runs: not repeatable
        "base-url": target.base_url,
        "workers": 1,
        "continue-on-failure": True,
        "request-timeout": target.settings.request_timeout,
        # No NUL characters: many honest stores cannot hold them (PostgreSQL text), and the
        # catalogue says nothing about them, so a refusal would be no finding.
        "generation": {
            "mode": "all",
            "deterministic": True,
            "database": "none",
            "no-shrink": True,
            "max-examples": max_examples,
            "allow-x00": False,
        },
        "phases": {
            "stateful": {
                "max-steps": STATEFUL_MAX_STEPS,
                # only the document's own links, none inferred
                "inference": {"algorithms": []},
            }
        },
        "auth": {"openapi": {"licenseAuth": {"api_key": f"License {fixture.license_key}"}}},
        "checks": checks,
        "operations": operations,
    }


def fresh_key(generated: str) -> str:
    """A new unique key of the generated key's length where that is long enough to be unique
    (keeps boundary lengths and odd characters in the tail), else a uuid."""
    head = uuid.uuid4().hex
    return head + generated[len(head) :] if len(generated) > len(head) else head


@contextmanager
def fresh_idempotency_keys(schema: Any) -> Iterator[None]:
    """Replace a valid generated Idempotency-Key with a fresh one before every call of `schema`.

    Generated keys collide ("0", "00", ...): the same key with another body is
    rightly refused (IDEM-05), which would show up as false failures. A key the
    case omits or makes invalid (empty, longer than 255) is left as it is: that
    is the point of the negative case. Hooks for `before_call` are global in
    schemathesis 4.32.5, so this one is registered for the run only.
    """
    from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

    def before_call(context: Any, case: Any, kwargs: Any) -> None:
        if case.operation.schema is not schema or case.headers is None:
            return
        for name in list(case.headers):
            if name.lower() == "idempotency-key":
                value = case.headers[name]
                if isinstance(value, str) and 1 <= len(value) <= IDEMPOTENCY_KEY_MAX:
                    case.headers[name] = fresh_key(value)

    GLOBAL_HOOK_DISPATCHER.register_hook_with_name(before_call, "before_call")
    try:
        yield
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(before_call)


# ------------------------------------------------------------------ the run
def run_generated(
    target: Target, fixture: LicenseFixture, *, seed: int, max_examples: int, budget_seconds: float = 60.0
) -> GeneratedRun:
    """Run schemathesis once against `target` with `fixture`'s key and judge everything it saw."""
    import schemathesis
    from schemathesis.engine import events, from_schema

    run = GeneratedRun(fixture=fixture, seed=seed, max_examples=max_examples)
    started = time.monotonic()
    config = schemathesis.Config.from_dict(schemathesis_config(target, fixture, seed=seed, max_examples=max_examples))
    schema = schemathesis.openapi.from_path(OPENAPI_PATH, config=config).exclude(tag="management")
    op_ids = {op.label: schema.get_operation_id(op) for op in _operations(schema)}

    recorders: list[tuple[str, Any]] = []
    with fresh_idempotency_keys(schema):
        stream = from_schema(schema).execute()
        timer = threading.Timer(budget_seconds, stream.stop)  # the engine checks its stop event between cases
        timer.daemon = True
        timer.start()
        try:
            for event in stream:
                if isinstance(event, events.ScenarioFinished):
                    recorders.append((event.phase.value, event.recorder))
                elif isinstance(event, events.NonFatalError):
                    line = f"{event.label}: {event.info.title}: {_first_line(event.info.message)}"
                    # A request the server never answered is a finding (INPUT-04), not a broken run.
                    (run.network_errors if _is_network(event) else run.errors).append(line)
                elif isinstance(event, events.FatalError):
                    run.errors.append(f"fatal: {event.exception!r}")
                elif isinstance(event, events.EngineFinished):
                    run.stopped_early = event.stop_reason.value not in ("completed",)
        finally:
            timer.cancel()
    run.wall_seconds = time.monotonic() - started

    by_case: dict[str, Observed] = {}
    failures: list[tuple[str, Any, str]] = []  # (check, failure, case id)
    for phase, rec in recorders:
        for case_id, node in rec.cases.items():
            inter = rec.interactions.get(case_id)
            if inter is None:
                continue
            obs = _observe(phase, case_id, node, inter, op_ids)
            by_case[case_id] = obs
        for case_id, nodes in rec.checks.items():
            for node in nodes:
                if node.status.value == "failure" and node.failure_info is not None:
                    failure = node.failure_info.failure
                    failures.append((node.name, failure, failure.case_id or case_id))
    run.observed = sorted(by_case.values(), key=lambda o: o.timestamp)
    for i, o in enumerate(run.observed):
        o.seq = i

    judge = _Judge(run, target, fixture)
    judge.count_exercised()
    for check, failure, case_id in failures:
        run.raw_failures[check] += 1
        obs = by_case.get(case_id)
        if obs is None:
            run.errors.append(f"{check}: failure on a case with no recorded request ({failure.title})")
            continue
        judge.schemathesis_failure(check, failure, obs)
    judge.transport_errors()
    judge.checkout_answers()
    judge.invariants()
    _share(target, run.observed)
    return run


def _share(target: Target, observed: list[Observed]) -> None:
    """Every generated exchange goes where the suite's own exchanges go: the universal
    envelope/signature inspection (ENV-02/03/05, SIG-01/02/06, TIME-05) and the lease
    tracker, which checks in what the run still holds when it ends. Not the server clock:
    schemathesis's send and receive instants are approximate, and a wrong round trip there
    would skew every timed scenario."""
    inspector = Inspector(target.keyring, refresh_keys=target.refresh_keys)
    for o in observed:
        ex = o.exchange()
        target.tracker(ex)
        if target.on_finding is not None:
            target.on_finding(ex, inspector.inspect(ex))


def _operations(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        if hasattr(result, "ok"):  # Ok; an Err (an operation schemathesis cannot load) is reported by the engine
            yield result.ok()


def _is_network(event: Any) -> bool:
    import requests

    title = event.info.title or ""
    return isinstance(event.value, requests.RequestException) or any(
        w in title for w in ("Network", "Unresponsive", "Unavailable", "Connection", "Timeout", "Timed out")
    )


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0][:300] if (text or "").strip() else ""


def _observe(phase: str, case_id: str, node: Any, inter: Any, op_ids: dict[str, str]) -> Observed:
    case = node.value
    req = inter.request
    url = urlsplit(req.uri)
    headers = {k.lower(): (v[0] if isinstance(v, list) else v) for k, v in req.headers.items()}
    meta = case.meta
    scenario = None
    mode = "positive"
    if meta is not None:
        mode = "negative" if meta.generation.mode.is_negative else "positive"
        scenario = getattr(meta.phase.data, "scenario", None)
        scenario = scenario.value if scenario is not None else None
    resp = inter.response
    return Observed(
        seq=0,
        case_id=case_id,
        phase=phase,
        operation=op_ids.get(case.operation.label, case.operation.label),
        method=req.method,
        path=url.path + (f"?{url.query}" if url.query else ""),
        headers=headers,
        body=req.body,
        timestamp=inter.timestamp,
        status=resp.status_code if resp is not None else None,
        response_headers={k.lower(): ", ".join(v) for k, v in resp.headers.items()} if resp is not None else {},
        response_body=resp.content if resp is not None else b"",
        elapsed=resp.elapsed if resp is not None else 0.0,
        mode=mode,
        scenario=scenario,
        probe=node.parent_id is not None and node.transition is None,
    )


# ------------------------------------------------------------------ judging
class _Judge:
    """Turns what schemathesis saw into findings under requirement IDs."""

    def __init__(self, run: GeneratedRun, target: Target, fixture: LicenseFixture) -> None:
        self.run = run
        self.target = target
        self.fixture = fixture
        self.auth = f"License {fixture.license_key}"
        self.provisioned = target.management is not None  # a fresh license: nobody else holds its seats
        self._first_license: tuple[Any, Observed] | None = None

    # -- what a request as sent breaks, by our spec (not by schemathesis's labels)
    def problems(self, o: Observed) -> list[tuple[str | None, str]]:
        """[(requirement or None, what)] the request breaks, most decisive first; [] if valid."""
        if o.operation not in RUNTIME:
            return []
        out: list[tuple[str | None, str]] = []
        if o.headers.get("authorization") != self.auth:
            out.append(("AUTH-01", "no valid `Authorization: License <key>`"))
        if o.operation in KEYED:
            key = o.headers.get("idempotency-key")
            if key is None:
                out.append((KEYED[o.operation], "no Idempotency-Key header"))
            elif not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
                out.append((None, f"Idempotency-Key of {len(key)} characters (spec: 1..255)"))
        parsed, body = o.request_json()
        if not parsed:
            out.append(("INPUT-01", "body absent or not JSON"))
            return out
        ctype = o.headers.get("content-type", "")
        if "json" not in ctype:
            out.append((None, f"Content-Type {ctype!r}"))
        for err in validator(BODY_SCHEMA[o.operation]).iter_errors(body):
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            if err.validator in ("additionalProperties", "unevaluatedProperties"):
                out.append(("INPUT-02", f"unknown field at {where}"))
            elif err.validator in ("type", "required"):
                out.append(("INPUT-03", f"{err.validator} violated at {where}"))
            else:
                out.append((None, f"`{err.validator}` violated at {where}"))
        order = ("AUTH-01", "IDEM-01", "IDEM-02", "INPUT-01", "INPUT-03", "INPUT-02", None)
        return sorted(out, key=lambda p: order.index(p[0]))

    def valid(self, o: Observed) -> bool:
        return not self.problems(o)

    def count_exercised(self) -> None:
        ex = self.run.exercised
        accepted_keys = set()
        for o in self.run.observed:
            ex["INPUT-04"] += 1
            if not o.documented_method:
                ex["INPUT-05"] += 1
                continue
            if o.status is not None and o.scenario not in REQUEST_SHAPE_PROBES:
                ex["ENV-04"] += 1
                ex["ENV-01"] += 1
            probs = self.problems(o)
            for rid in {rid for rid, _ in probs if rid}:
                ex[rid] += 1
            if not probs and o.operation in ACCEPTS:
                ex[ACCEPTS[o.operation]] += 1
            key = (o.operation, o.headers.get("idempotency-key"))
            if o.operation in KEYED and o.status is not None and 200 <= o.status < 300 and not probs:
                accepted_keys.add(key)
            elif o.probe and key in accepted_keys and o.headers.get("authorization") != self.auth:
                ex["AUTH-03"] += 1  # ignored_auth replayed an accepted request's key without credentials

    # -- schemathesis's failures
    def schemathesis_failure(self, check: str, failure: Any, o: Observed) -> None:
        title = failure.title
        kind = f"{check}: {title} ({o.operation})"
        msg = f"[{title}] {o.describe()}: {_first_line(failure.message)}"
        if check == "not_a_server_error":
            self.run.fail("INPUT-04", kind, msg, o)
        elif check == "status_code_conformance":
            if o.status in ALWAYS_ALLOWED:
                self.run.tolerated["status_code_conformance: 429/503 are always allowed (ENV-04)"] += 1
            else:
                self.run.fail("ENV-04", kind, msg, o)
        elif check in ("response_schema_conformance", "content_type_conformance", "response_headers_conformance"):
            self.run.fail("ENV-01", kind, msg, o)
        elif check == "negative_data_rejection":
            probs = self.problems(o)
            rids = [rid for rid, _ in probs if rid]
            if not probs:
                # schemathesis#2983: link data (or serialisation) made the "negative" request valid.
                self.run.tolerated["negative_data_rejection: the request as sent is valid (schemathesis#2983)"] += 1
            elif not rids:
                what = "; ".join(w for _, w in probs)
                self.run.tolerated[
                    "negative_data_rejection: only limits our spec sets were broken (no catalogue rule)"
                ] += 1
                self.run.notes["INPUT-03"].append(f"informative: {o.describe()} was not refused although {what}")
            else:
                self.run.fail(rids[0], kind, f"{msg} (the request breaks: {probs[0][1]})", o)
        elif check == "missing_required_header":
            if "authorization" not in o.headers:
                self.run.fail("AUTH-01", kind, msg, o)
            elif o.operation in KEYED:
                self.run.fail(KEYED[o.operation], kind, msg, o)
            else:
                self.run.errors.append(f"missing_required_header on {o.operation}: {title}")
        elif check == "ignored_auth":
            self._ignored_auth(kind, msg, o)
        elif check == "unsupported_method":
            self.run.fail("INPUT-05", kind, msg, o)
        elif check == "positive_data_acceptance":
            probs = self.problems(o)
            if probs:
                # schemathesis#2779 and friends: what went out was not the valid request it generated.
                self.run.tolerated[
                    "positive_data_acceptance: the request as sent is not valid (schemathesis#2779)"
                ] += 1
            elif o.operation in ACCEPTS:
                self.run.fail(ACCEPTS[o.operation], kind, msg, o)
        else:
            self.run.errors.append(f"unexpected check {check!r}: {title}")

    def _ignored_auth(self, kind: str, msg: str, o: Observed) -> None:
        if o.headers.get("authorization") == self.auth:
            # schemathesis#2462/#2482: the accepted request carried our valid key; auth was not ignored.
            self.run.tolerated["ignored_auth: the accepted request carried the valid key (schemathesis#2462)"] += 1
            return
        key = o.headers.get("idempotency-key")
        earlier = [
            p
            for p in self.run.observed[: o.seq]
            if p.operation == o.operation
            and p.headers.get("idempotency-key") == key
            and p.headers.get("authorization") == self.auth
            and p.status is not None
            and 200 <= p.status < 300
        ]
        if o.operation in KEYED and key and earlier:
            # Same request with a fresh key and no credentials: 401 means only the replay got through.
            with self._http() as http:
                fresh = http.request(
                    o.method,
                    o.path,
                    content=o.body,
                    operation=CLIENT_LABEL.get(o.operation, o.operation),
                    headers={
                        "Content-Type": o.headers.get("content-type", "application/json"),
                        "Idempotency-Key": f"lc-gen-{uuid.uuid4()}",
                    },
                )
            if fresh.status == 401:
                self.run.fail(
                    "AUTH-03",
                    kind,
                    f"{msg}: a request without valid credentials replaying the "
                    f"Idempotency-Key of an accepted request got {o.status}; with a fresh key it gets 401, "
                    "so the idempotency cache answers before authentication",
                    earlier[0],
                    o,
                    _from_exchange(fresh, o),
                )
                return
        self.run.fail("AUTH-01", kind, msg, o)

    def transport_errors(self) -> None:
        unanswered = [o for o in self.run.observed if o.status is None]
        for o in unanswered:
            self.run.fail("INPUT-04", "no answer", f"{o.describe()}: the server gave no answer", o)
        if self.run.network_errors and not unanswered:
            self.run.fail(
                "INPUT-04",
                "no answer",
                "the server left generated requests unanswered: " + "; ".join(self.run.network_errors[:3]),
            )

    # -- own checks
    def checkout_answers(self) -> None:
        """LIFE-01: a valid checkout with a binding identity is granted unless the pool could be full."""
        seats = self.fixture.seats or 0
        tokens: set[str] = set()
        unanswered = 0
        for o in self.run.observed:
            if o.operation != CHECKOUT_OP or not o.documented_method:
                continue
            if o.status is None:
                unanswered += 1
                continue
            data = o.data()
            if o.status == 200 and isinstance(data, dict) and isinstance(data.get("lease_token"), str):
                tokens.add(data["lease_token"])
                continue
            if not self.valid(o):
                continue
            _, body = o.request_json()
            if o.status == 422 and _has_identity(body):
                self.run.fail(
                    "LIFE-01",
                    "checkout: 422 for a binding identity",
                    f"{o.describe()}: a schema-valid checkout with a binding identity was refused as invalid (422)",
                    o,
                )
            elif o.status in (403, 409) and self.provisioned and len(tokens) + unanswered < seats:
                self.run.fail(
                    "LIFE-01",
                    "checkout: refused with free seats",
                    f"{o.describe()}: refused although at most {len(tokens) + unanswered} of {seats} seats "
                    "were ever granted on this license",
                    o,
                )

    def invariants(self) -> None:
        """Stateful invariants over the whole run in order; each holds whatever links were applied."""
        issued: set[str] = set()
        ended: set[str] = set()
        expiry: dict[str, float] = {}
        keys = Counter(o.headers.get("idempotency-key") for o in self.run.observed)
        ex = self.run.exercised
        for o in self.run.observed:
            if o.operation not in RUNTIME or not o.documented_method or o.status is None:
                continue
            data = o.data()
            ok = o.status == 200 and isinstance(data, dict)
            if o.operation == CHECKOUT_OP:
                # Every token any checkout returned counts as issued, whatever the request looked like.
                tok = data.get("lease_token") if ok else None
                if isinstance(tok, str):
                    issued.add(tok)
                    ended.discard(tok)  # returned again by a checkout: treat as live, judge nothing
                    _raise(expiry, tok, data.get("lease_expires_at"))
            if not self.valid(o):
                continue
            if ok:
                self._license(o, data)
            if o.operation == CHECKOUT_OP:
                continue
            tok = o.lease_token_sent()
            if tok is None:
                continue
            if tok not in issued:
                if ok:
                    self.run.fail(
                        "CHK-03",
                        f"{o.operation}: 200 for a token never issued",
                        f"{o.describe()}: a lease_token no checkout returned was accepted",
                        o,
                    )
                continue
            if o.operation == HEARTBEAT_OP:
                if tok in ended:
                    ex["LIFE-03"] += 1
                    if ok:
                        self.run.fail(
                            "LIFE-03",
                            "heartbeat: 200 after checkin",
                            f"{o.describe()}: the lease was heartbeated after its checkin answered 200",
                            o,
                        )
                if ok and tok in expiry and isinstance(data.get("lease_expires_at"), str):
                    ex["TIME-02"] += 1
                    new = _epoch(data["lease_expires_at"])
                    if new is not None and new < expiry[tok] - EXPIRY_ROUNDING:
                        self.run.fail(
                            "TIME-02",
                            "heartbeat: expiry moved earlier",
                            f"{o.describe()}: lease_expires_at {data['lease_expires_at']} is "
                            f"{expiry[tok] - new:.3f} s earlier than one already given",
                            o,
                        )
                if ok and tok not in ended:
                    _raise(expiry, tok, data.get("lease_expires_at"))
            else:  # checkin
                if tok in ended and keys[o.headers.get("idempotency-key")] == 1:
                    ex["CHK-02"] += 1
                    if o.status not in (*SECOND_CHECKIN, *ALWAYS_ALLOWED):
                        self.run.fail(
                            "CHK-02",
                            "checkin: second checkin answer",
                            f"{o.describe()}: a second checkin (new key) must answer 200, 404 or 409",
                            o,
                        )
                if ok:
                    ended.add(tok)

    def _license(self, o: Observed, data: dict[str, Any]) -> None:
        """LIFE-05: every answer for this license names the same license_id (the license's own
        when the suite made it) and the policy's license_type."""
        self.run.exercised["LIFE-05"] += 1
        lid = data.get("license_id")
        if self._first_license is None:
            self._first_license = (lid, o)
        elif lid != self._first_license[0]:
            self.run.fail(
                "LIFE-05",
                "license_id differs",
                f"{o.describe()}: license_id {lid!r} differs from "
                f"{self._first_license[0]!r} in an earlier answer for the same license",
                self._first_license[1],
                o,
            )
        if self.provisioned:
            if lid != self.fixture.license_id:
                self.run.fail(
                    "LIFE-05",
                    "license_id is not the license's",
                    f"{o.describe()}: license_id {lid!r} is not the license's id {self.fixture.license_id!r}",
                    o,
                )
            if data.get("license_type") != self.fixture.license_type:
                self.run.fail(
                    "LIFE-05",
                    "license_type is not the policy's",
                    f"{o.describe()}: license_type {data.get('license_type')!r} is not the policy's "
                    f"{self.fixture.license_type!r}",
                    o,
                )

    def _http(self) -> Http:
        return Http(self.target.base_url, timeout=self.target.settings.request_timeout)


def _from_exchange(ex: Exchange, like: Observed) -> Observed:
    """An exchange the judge sent itself, as evidence next to schemathesis's."""
    return Observed(
        seq=-1,
        case_id="",
        phase="leasecheck",
        operation=like.operation,
        method=ex.method,
        path=ex.path,
        headers={k.lower(): v for k, v in ex.request_headers.items()},
        body=ex.request_body,
        timestamp=ex.received_at,
        status=ex.status,
        response_headers=dict(ex.response_headers),
        response_body=ex.response_body,
        elapsed=ex.elapsed,
        mode="negative",
    )


def _has_identity(body: Any) -> bool:
    """A binding identity by the facts: a fingerprint for hardware, a container field for containers.
    Blank strings do not count (honest servers may read them as absent)."""
    if not isinstance(body, dict):
        return False

    def given(name: str) -> bool:
        v = body.get(name)
        return isinstance(v, str) and v.strip() != ""

    if body.get("is_container") is True:
        return any(given(f) for f in CONTAINER_FIELDS)
    return given("fingerprint")


def _epoch(value: Any) -> float | None:
    try:
        return parse_rfc3339(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _raise(expiry: dict[str, float], token: str, value: Any) -> None:
    t = _epoch(value)
    if t is not None:
        expiry[token] = max(expiry.get(token, t), t)
