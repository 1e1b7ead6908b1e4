"""Input faults: bodies that are not JSON, or carry fields nobody asked for (INPUT-*)."""

from __future__ import annotations

import json
from typing import Any

from leasecheck.reference_server.app import Api
from leasecheck.reference_server.validation import Spec


class MalformedJsonCrashes(Api):
    """A body that is not JSON raises an uncaught parse error."""

    def decode_json(self, raw: bytes) -> Any:
        return json.loads(raw)  # BUG: a syntax error escapes as a 500


class UnknownFieldsDropped(Api):
    """Unknown request fields are silently ignored."""

    def check_fields(self, value: Any, spec: Spec) -> dict[str, Any]:
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k in spec}  # BUG: unknown fields dropped silently
        return super().check_fields(value, spec)
