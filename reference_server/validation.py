"""Strict request parsing: bad input becomes a 400/422 envelope, never a 500.

The order of checks fixes which refusal a request gets (specs/README.md):
not JSON -> 400 INVALID_JSON; not an object, unknown field, wrong type or
bad length -> 400 VALIDATION_ERROR; missing required field -> 422.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import clock
from .errors import INVALID_JSON, ApiError, bad_request, unprocessable

INT64_MAX = 2**63 - 1
MAX_DEPTH = 32
LICENSE_TYPES = ("perpetual", "time_limited", "subscription", "trial", "consumption")

Kind = Literal["string", "boolean", "integer", "object", "datetime"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _TooManyDigits(ValueError):
    pass


def _parse_int(digits: str) -> int:
    # int() refuses more digits than sys.get_int_max_str_digits() with advice for whoever
    # runs the server ("use sys.set_int_max_str_digits()"), not for the client that sent them.
    limit = sys.get_int_max_str_digits()
    if limit and len(digits) - digits.startswith("-") > limit:
        raise _TooManyDigits(limit)
    return int(digits)


def parse_json(raw: bytes) -> Any:
    """The parsed body; refuses what JSON or this server cannot represent."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except UnicodeDecodeError:
        raise ApiError(400, INVALID_JSON, "request body is not UTF-8") from None
    except RecursionError:
        raise ApiError(400, INVALID_JSON, "request body is nested too deeply") from None
    except _TooManyDigits as exc:
        raise ApiError(400, INVALID_JSON, f"request body holds a number with more than {exc} digits") from None
    except ValueError as exc:
        raise ApiError(400, INVALID_JSON, f"request body is not valid JSON: {exc}") from None
    _check_representable(value)
    return value


def _check_representable(value: Any) -> None:
    # Lone surrogates cannot be stored or signed as UTF-8; 1e999 parses to inf.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ApiError(400, INVALID_JSON, f"request body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ApiError(400, INVALID_JSON, "request body holds a number out of range")
        elif isinstance(item, dict):
            for k, v in item.items():
                _check_text(k)
                stack.append((v, depth + 1))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, INVALID_JSON, "request body holds an unpaired UTF-16 surrogate") from None


@dataclass(frozen=True)
class Field:
    kind: Kind
    required: bool = False
    min_length: int = 0
    max_length: int = 256
    minimum: int = 0
    maximum: int = INT64_MAX
    choices: tuple[str, ...] = ()

    def coerce(self, name: str, value: Any) -> Any:
        """The value in the server's terms, or a 400 naming what is wrong."""
        if self.kind == "string" or self.kind == "datetime":
            if not isinstance(value, str):
                raise bad_request(f"{name} must be a string")
            if self.kind == "datetime":
                try:
                    return clock.parse_rfc3339(value)
                except ValueError as exc:
                    raise bad_request(f"{name} {exc}") from None
            if not self.min_length <= len(value) <= self.max_length:
                raise bad_request(f"{name} must be {self.min_length} to {self.max_length} characters long")
            if self.choices and value not in self.choices:
                raise bad_request(f"{name} must be one of {', '.join(self.choices)}")
            return value
        if self.kind == "boolean":
            if not isinstance(value, bool):
                raise bad_request(f"{name} must be true or false")
            return value
        if self.kind == "integer":
            # JSON true is not an integer; 3.0 is (JSON Schema's view).
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad_request(f"{name} must be an integer")
            if not self.minimum <= value <= self.maximum:
                raise bad_request(f"{name} must be between {self.minimum} and {self.maximum}")
            return value
        if not isinstance(value, dict):
            raise bad_request(f"{name} must be an object")
        return value


Spec = Mapping[str, Field]


def check_object(body: Any, spec: Spec, what: str = "request body", *, nulls_absent: bool = False) -> dict[str, Any]:
    """Validate `body` against `spec`; the coerced fields that were sent. With `nulls_absent`
    a JSON null reads as a field not sent (pointer/optional-type servers do), so a null in a
    required field is a missing field; by default a null is a wrong type (facts: both honest)."""
    if not isinstance(body, dict):
        raise bad_request(f"{what} must be a JSON object")
    if nulls_absent:
        body = {name: value for name, value in body.items() if value is not None or name not in spec}
    unknown = sorted(set(body) - set(spec))
    if unknown:
        raise bad_request(f"unknown field {unknown[0]!r} in {what}")
    out = {name: spec[name].coerce(name, value) for name, value in body.items()}
    missing = [name for name, f in spec.items() if f.required and name not in body]
    if missing:
        raise unprocessable(f"missing required field {missing[0]!r}")
    return out


def canonical(body: Any) -> bytes:
    """One byte string per JSON value regardless of key order or spacing."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# ------------------------------------------------------------------ runtime bodies
_S = Field("string")

CHECKOUT: Spec = {
    "fingerprint": Field("string", min_length=1),
    "hostname": _S,
    "os": _S,
    "app_version": _S,
    "container_id": _S,
    "cluster_id": _S,
    "namespace": _S,
    "pod_name": _S,
    "is_vm": Field("boolean"),
    "is_container": Field("boolean"),
}
CONTAINER_FIELDS = ("cluster_id", "namespace", "pod_name", "container_id")

LEASE_TOKEN: Spec = {"lease_token": Field("string", required=True, min_length=1, max_length=512)}


def binding_identity(body: Mapping[str, Any]) -> str:
    """Who holds a seat: the fingerprint, or the container fields together.

    The container fields are written as a JSON list: joined with a separator,
    a field holding the separator made two containers one identity (one lease
    for both), and the fields are free text."""
    if body.get("is_container"):
        parts = [str(body.get(f, "")) for f in CONTAINER_FIELDS]
        if not any(parts):
            raise unprocessable("a container binding needs one of " + ", ".join(CONTAINER_FIELDS))
        return "container:" + json.dumps(parts)
    if not body.get("fingerprint"):
        raise unprocessable("missing required field 'fingerprint' (or is_container true with a container identity)")
    return "hardware:" + str(body["fingerprint"])


# ------------------------------------------------------------------ management bodies
_NAME = Field("string", required=True, min_length=1)
_META = Field("object")

PRODUCT: Spec = {"name": _NAME, "code": _NAME, "metadata": _META}

POLICY: Spec = {
    "name": _NAME,
    "code": _NAME,
    "license_type": Field("string", required=True, choices=LICENSE_TYPES),
    "max_floating_users": Field("integer", minimum=0),
    "floating_timeout_minutes": Field("integer", minimum=1),
    "require_heartbeat": Field("boolean"),
    "metadata": _META,
}

LICENSE: Spec = {
    "product_id": _NAME,
    "policy_id": _NAME,
    "customer_id": _S,
    "order_id": _S,
    "subscription_id": _S,
    "customer_email": _S,
    "customer_name": _S,
    "starts_at": Field("datetime"),
    "expires_at": Field("datetime"),
    "maintenance_expires_at": Field("datetime"),
    "metadata": _META,
}


def check_license_period(body: Mapping[str, Any]) -> None:
    """A license that starts after it expires could never be used: refused (400), naming both
    fields. The checked body holds instants, so offsets compare as the instants they name."""
    starts, expires = body.get("starts_at"), body.get("expires_at")
    if starts is not None and expires is not None and starts > expires:
        raise bad_request("starts_at must not be later than expires_at")


EMPTY: Spec = {}

FEATURE: Spec = {
    "code": Field("string", required=True, min_length=1),
    "enabled": Field("boolean", required=True),
    "quota": Field("integer"),
}


def policy_features(metadata: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """`metadata.features`, checked: it is copied into signed checkout data."""
    raw = (metadata or {}).get("features")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("metadata.features must be a list")
    out = []
    for i, item in enumerate(raw):
        try:
            checked = check_object(item, FEATURE, f"metadata.features[{i}]")
        except ApiError as exc:
            raise bad_request(f"metadata.features[{i}]: {exc.message}") from None
        feature = {"code": checked["code"], "enabled": checked["enabled"]}
        if "quota" in checked:
            feature["quota"] = checked["quota"]
        out.append(feature)
    return out
