"""How schemathesis is set up for one run: its configuration, the schema, one hook.

The configuration is the dict form of `schemathesis.toml`, built here rather
than found on disk so that nothing in the working directory changes a run:

- phases: examples, coverage (boundary values, missing headers, unknown
  fields, wrong methods), fuzzing (positive and negative), and stateful
  sequences through the document's own OpenAPI links (checkout's
  `lease_token` into heartbeat and checkin); management is excluded;
- repeatable: a fixed seed, `generation.deterministic`, no example
  database, no shrinking, no cache, a bounded `max-examples` and number of
  stateful steps. The same seed sends the same requests for the
  same source only: hypothesis also draws values from the literals of every
  loaded module outside site-packages (its "local constants"), so a string
  added to any leasecheck module, or an editable rather than a plain install,
  changes what is generated;
- hypothesis's own files (the UTF-8 table, which we write for it; those
  local constants) live in leasecheck's cache, not in `.hypothesis/` of
  whatever directory the run started in (`hypothesis_files.py`);
- `continue-on-failure`: one failing case never hides the next;
- the statuses each check accepts: positive checkout 2xx/403/409/422 (over
  capacity, business validation; the own LIFE-01 check narrows them), positive
  heartbeat and checkin 2xx/404/409/422 (CHK-03's answers), negative
  400/401/413/422, a missing Idempotency-Key 400/422. 429 is always accepted;
  a 5xx is left to `not_a_server_error`, so a 500 is not also an acceptance or
  a rejection failure.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from leasecheck.core.client import license_auth
from leasecheck.specs import OPENAPI_PATH, openapi

from .hypothesis_files import prepare_hypothesis
from .operations import CHECKIN_OP, CHECKOUT_OP, HEARTBEAT_OP, IDEMPOTENCY_KEY_MAX, SYSTEM

if TYPE_CHECKING:
    from schemathesis.schemas import BaseSchema

STATEFUL_MAX_STEPS = 6
#: The phases that test each operation on its own, and all of them.
UNIT_PHASES = ("examples", "coverage", "fuzzing")
PHASES = (*UNIT_PHASES, "stateful")
#: Checks run (each has a rule in triage.RULES); everything else schemathesis offers is off.
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
#: use_after_free and ensure_resource_availability mean nothing for RPC-style POST paths:
#: the own invariants (LIFE-03, CHK-02, CHK-03) express those ideas.
OFF = ("use_after_free", "ensure_resource_availability", "object_level_authorization", "allow_header_conformance")


def schemathesis_config(
    *,
    base_url: str,
    license_key: str,
    request_timeout: float,
    seed: int,
    max_examples: int,
    workers: int = 1,
    phases: tuple[str, ...] = PHASES,
) -> dict[str, Any]:
    """The schemathesis configuration for one run against `base_url` with one license;
    `workers`: operations tested at once (the stateful phase is one sequence at a time);
    `phases`: those that run (each of PHASES either way sends what it sends alone)."""
    negative = ["400", "401", "413", "422", "429", "5xx"]
    checks: dict[str, Any] = {name: {"enabled": False} for name in OFF}
    checks.update({name: {"enabled": True} for name in CHECKS})
    checks["negative_data_rejection"]["expected-statuses"] = negative
    checks["missing_required_header"]["expected-statuses"] = ["400", "422", "429"]
    checks["positive_data_acceptance"]["expected-statuses"] = ["2xx", "429", "5xx"]

    def op(op_id: str, **check_overrides: list[str]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "include-operation-id": op_id,
            "checks": {name: {"expected-statuses": v} for name, v in check_overrides.items()},
        }
        if op_id in SYSTEM:
            # No input to draw: fuzzing would send the one request coverage sends already.
            entry["phases"] = {"fuzzing": {"enabled": False}}
        return entry

    operations = [
        # Over capacity (403/409, CAP-02) and business validation (422: no binding identity,
        # a container without identity, INPUT-07) are honest answers to schema-valid bodies;
        # the own LIFE-01 check narrows them afterwards.
        op(CHECKOUT_OP, positive_data_acceptance=["2xx", "403", "409", "422", "429", "5xx"]),
        op(HEARTBEAT_OP, positive_data_acceptance=["2xx", "404", "409", "422", "429", "5xx"]),
        op(CHECKIN_OP, positive_data_acceptance=["2xx", "404", "409", "422", "429", "5xx"]),
        # readyz documents 503 (not ready); it is not a server error there.
        op("readyz", not_a_server_error=["2xx", "3xx", "4xx", "503"]),
        *(op(op_id) for op_id in SYSTEM if op_id != "readyz"),
    ]
    return {
        "seed": seed,
        "suppress-health-check": ["all"],  # a slow target must not turn into a generation error
        "cache": {"enabled": False},  # the on-disk cache replays earlier runs: not repeatable
        "base-url": base_url,
        "workers": workers,
        "continue-on-failure": True,
        "request-timeout": request_timeout,
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
            **{name: {"enabled": False} for name in PHASES if name not in phases},
            "stateful": {
                **({} if "stateful" in phases else {"enabled": False}),
                "max-steps": STATEFUL_MAX_STEPS,
                # only the document's own links, none inferred
                "inference": {"algorithms": []},
            },
        },
        "auth": {"openapi": {"licenseAuth": {"api_key": license_auth(license_key)["Authorization"]}}},
        "checks": checks,
        "operations": operations,
    }


def load_schema(config: dict[str, Any]) -> BaseSchema:
    """Our OpenAPI document under `config`, without the management operations. Every run
    builds its schemas here before generating anything, so this is also where hypothesis
    is given its home (hypothesis_files.py)."""
    import schemathesis

    prepare_hypothesis()

    # From the document already parsed (specs.openapi, libyaml): schemathesis's own YAML
    # parse of the same file is pure Python and cost 0.6 s of CPU per run. A copy, since
    # schemathesis may resolve references in place.
    schema = schemathesis.openapi.from_dict(copy.deepcopy(openapi()), config=schemathesis.Config.from_dict(config))
    schema.location = OPENAPI_PATH.as_uri()
    return schema.exclude(tag="management")


def operation_ids(schema: BaseSchema) -> dict[str, str]:
    """schemathesis's label of each operation ("POST /api/...") -> its operationId.
    An operation schemathesis cannot load is left out here; the engine reports it."""
    out = {}
    for result in schema.get_all_operations():
        if hasattr(result, "ok"):  # Ok, not Err
            op = result.ok()
            out[op.label] = schema.get_operation_id(op) or op.label
    return out


def fresh_key(generated: str) -> str:
    """A new unique key of the generated key's length where that is long enough to be unique
    (keeps boundary lengths and odd characters in the tail), else a uuid."""
    head = uuid.uuid4().hex
    return head + generated[len(head) :] if len(generated) > len(head) else head


@contextmanager
def fresh_idempotency_keys(*schemas: object, pace: Callable[[], object] | None = None) -> Iterator[None]:
    """Replace a valid generated Idempotency-Key with a fresh one before every call of `schemas`
    (after `pace`, the run's rate cap, which every request of the run shares).

    Generated keys collide ("0", "00", ...): the same key with another body is
    rightly refused (IDEM-05), which would show up as false failures. A key the
    case omits or makes invalid (empty, longer than 255) is left as it is: that
    is the point of the negative case. Hooks for `before_call` are global in
    schemathesis 4.32.5, so this one is registered for the run only.
    """
    from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

    def before_call(context: Any, case: Any, kwargs: Any) -> None:
        if not any(case.operation.schema is s for s in schemas):
            return
        if pace is not None:
            pace()
        if case.headers is None:
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
