"""Input faults: bodies that are not JSON, or carry fields nobody asked for (INPUT-*)."""

from __future__ import annotations

import json
from typing import Any

from leasecheck.reference_server.app import Api
from leasecheck.reference_server.idempotency import Answer
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.validation import CONTAINER_FIELDS, Spec

from . import bug


@bug("malformed-json-500", "INPUT-01")
class MalformedJsonCrashes(Api):
    """A body that is not JSON raises an uncaught parse error: 500, which clients retry."""

    def decode_json(self, raw: bytes) -> Any:
        return json.loads(raw)  # BUG: a syntax error escapes as a 500


@bug("unknown-fields-accepted", "INPUT-02")
class UnknownFieldsDropped(Api):
    """Unknown request fields are silently ignored, so a typo such as 'fingerprnt' goes unnoticed."""

    def check_fields(self, value: Any, spec: Spec) -> dict[str, Any]:
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k in spec}  # BUG: unknown fields dropped silently
        return super().check_fields(value, spec)


@bug("wrong-types-coerced", "INPUT-03")
class LaxTypes(Api):
    """A lax parser reads a null as absent (honest) but turns numbers and booleans into strings and "yes"/"no" into
    booleans, so a client sending the wrong type never hears of it.
    """

    def check_fields(self, value: Any, spec: Spec) -> dict[str, Any]:
        if isinstance(value, dict):
            value = {k: _coerce(v, spec[k].kind) if k in spec else v for k, v in value.items() if v is not None}
        return super().check_fields(value, spec)


def _coerce(value: Any, kind: str) -> Any:
    if kind == "string" and isinstance(value, (int, float, bool)):
        return str(value).lower() if isinstance(value, bool) else str(value)  # BUG: a wrong type accepted
    if kind == "boolean" and isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value).lower() in ("1", "true", "yes", "on")  # BUG: "no" and "yes" are not booleans
    return value


@bug("empty-container-shared", "INPUT-07")
class EmptyContainerShared(Runtime):
    """A container binding with no cluster, namespace, pod or container id is accepted as the default pod, so every
    such client shares one seat and hands each other its lease.
    """

    def checkout(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        if body.get("is_container") and not any(body.get(f) for f in CONTAINER_FIELDS):
            body = {**body, "pod_name": "default"}  # BUG: no identity is not an identity
        return super().checkout(license_id, key, body)


@bug("non-ascii-field-500", "INPUT-04", areas=("generated",))
class NonAsciiCrashes(Runtime):
    """Device fields are written to an ASCII column without a check: a checkout whose hostname or fingerprint holds a
    character outside ASCII raises an encoding error, a 500, which clients retry forever.
    """

    def checkout(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        for value in body.values():
            if isinstance(value, str):
                value.encode("ascii")  # BUG: UnicodeEncodeError escapes as a 500
        return super().checkout(license_id, key, body)
