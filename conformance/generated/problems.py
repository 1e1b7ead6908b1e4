"""What a request as sent breaks, by our spec, not by schemathesis's labels.

schemathesis labels a case positive or negative by what it meant to
generate; what goes over the wire can differ (link data merged into a
negative case, schemathesis#2983; an auth header dropped or replaced,
schemathesis#2779). Triage, the exercised count and the own checks all
judge the request as sent, so they all ask here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from jsonschema import ValidationError

from leasecheck.conformance.accepted import beyond_common_length as common_length
from leasecheck.specs.validate import validator

from .observation import Observation
from .operations import BODY_SCHEMA, IDEMPOTENCY_KEY_MAX, KEYED, RUNTIME


class Problem(NamedTuple):
    """One thing a request breaks, and the requirement a refusal of it is owed to
    (None: a limit only our spec sets, such as a length or a pattern, or a JSON
    `null` in an optional field; no catalogue rule fixes it and honest servers
    differ). `null_optional` marks the null: the facts list what it means among
    the silent points (absent, or a wrong type: both honest)."""

    requirement: str | None
    what: str
    null_optional: bool = False


#: Most decisive first: a request that breaks several is judged by the first.
ORDER = ("AUTH-01", "IDEM-01", "IDEM-02", "INPUT-01", "INPUT-03", "INPUT-02", None)


def problems(o: Observation, auth: str) -> list[Problem]:
    """What a runtime request breaks, most decisive first; [] if it is valid (system
    operations take no input, so theirs are always valid). `auth` is the
    Authorization value of the run's license."""
    if o.operation not in RUNTIME:
        return []
    out: list[Problem] = []
    if o.sent_header("authorization") != auth:
        out.append(Problem("AUTH-01", "no valid `Authorization: License <key>`"))
    if o.operation in KEYED:
        key = o.sent_header("idempotency-key")
        if key is None:
            out.append(Problem(KEYED[o.operation], "no Idempotency-Key header"))
        elif not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
            out.append(Problem(None, f"Idempotency-Key of {len(key)} characters (spec: 1..255)"))
    parsed, body = o.sent_json()
    if not parsed:
        out.append(Problem("INPUT-01", "body absent or not JSON"))
        return out
    ctype = o.sent_header("content-type") or ""
    if "json" not in ctype:
        out.append(Problem(None, f"Content-Type {ctype!r}"))
    check = validator(BODY_SCHEMA[o.operation])
    for err in check.iter_errors(body):
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        if err.validator in ("additionalProperties", "unevaluatedProperties"):
            out.append(Problem("INPUT-02", f"unknown field at {where}"))
        elif err.validator == "type" and err.instance is None and optional_property(check.schema, err):
            out.append(Problem(None, f"null in the optional field {where} (absent or refused: both honest)", True))
        elif err.validator in ("type", "required"):
            out.append(Problem("INPUT-03", f"{err.validator} violated at {where}"))
        else:
            out.append(Problem(None, f"`{err.validator}` violated at {where}"))
    return sorted(out, key=lambda p: ORDER.index(p.requirement))


def optional_property(root: Any, err: ValidationError) -> bool:
    """Whether `err` is about a property its object schema does not require. Our request
    schemas require what the official contract requires (`leasecheck spec contract-check`
    compares them), so this is the contract's optional as well as ours."""
    path = list(err.absolute_schema_path)
    if len(path) < 3 or path[-3] != "properties":
        return False
    parent = root
    for step in path[:-3]:
        parent = parent[step]
    return isinstance(parent, dict) and path[-2] not in parent.get("required", [])


def only_nulls(probs: list[Problem]) -> bool:
    """Every problem is a null in an optional field: the request is valid once they read as absent."""
    return bool(probs) and all(p.null_optional for p in probs)


def valid(o: Observation, auth: str) -> bool:
    return not problems(o, auth)


def beyond_common_length(o: Observation) -> str | None:
    """The first value of a runtime request longer than `COMMON_LENGTH`, said for a note
    (`accepted.beyond_common_length`); None if there is none or it is no runtime request."""
    if o.operation not in RUNTIME:
        return None
    parsed, body = o.sent_json()
    return common_length(o.sent_header("idempotency-key"), body if parsed else None)
