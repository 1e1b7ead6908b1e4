"""validate.py: the fast path (jsonschema-rs) never passes what python-jsonschema refuses.

`is_valid` trusts jsonschema-rs when it accepts. So, for every exported schema,
a valid instance and each kind of breakage these schemas' keywords can see
(a missing required member, a wrong type, a string too short or too long, a
bad date-time, a pattern broken or followed by a newline, an unknown member
where none is allowed, a value outside an enum or below a minimum) are judged
by both: jsonschema-rs accepts only what python-jsonschema accepts, and
`is_valid` gives python-jsonschema's verdict.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from leasecheck.specs import SCHEMA_DIR
from leasecheck.specs.validate import _fast, is_valid, validator

SCHEMAS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(SCHEMA_DIR.glob("*.json"))}
WRONG_TYPES = [None, True, 7, 1.5, "x", [], {}]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].removesuffix(".json")]
    return schema


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type", "object" if "properties" in schema else "string")
    return t if isinstance(t, list) else [t]


def example(schema: dict[str, Any]) -> Any:
    """A valid instance, every property present (so that each can be broken)."""
    schema = _resolve(schema)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    t = next(t for t in _types(schema) if t != "null") if _types(schema) != ["null"] else "null"
    if t == "object":
        return {k: example(v) for k, v in schema.get("properties", {}).items()}
    if t == "array":
        return [example(schema["items"])] if "items" in schema else []
    if t in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if t == "boolean":
        return True
    if t == "null":
        return None
    if schema.get("format") == "date-time":
        return "2026-12-02T06:00:00.123Z"
    if "pattern" in schema:
        return "QUJD"
    return "x" * max(1, schema.get("minLength", 1))


def breakages(schema: dict[str, Any], value: Any) -> Iterator[Any]:
    """`value` (valid for `schema`) broken in each way the schema's keywords can see."""
    schema = _resolve(schema)
    yield from WRONG_TYPES
    if isinstance(value, str):
        yield ""
        yield "y" * (schema.get("maxLength", 10_000) + 1)
        yield value + "\n"
        yield value + "!"
        yield "2026-13-02T06:00:00Z"
        yield "2026-12-02T06:00:00"
    if isinstance(value, int) and not isinstance(value, bool):
        yield schema.get("minimum", 0) - 1
    if isinstance(value, dict):
        yield {**value, "unknown_member": 1}
        for key in schema.get("required", []):
            yield {k: v for k, v in value.items() if k != key}
        for key, sub in schema.get("properties", {}).items():
            for broken in breakages(sub, value[key]):
                out = copy.copy(value)
                out[key] = broken
                yield out
    if isinstance(value, list) and value and "items" in schema:
        for broken in breakages(schema["items"], value[0]):
            yield [broken]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_jsonschema_rs_accepts_only_what_python_jsonschema_accepts(name: str) -> None:
    valid = example(SCHEMAS[name])
    assert validator(name).is_valid(valid), (name, valid)
    assert _fast(name, SCHEMA_DIR)(valid) and is_valid(valid, name)
    seen = 0
    for broken in breakages(SCHEMAS[name], valid):
        want = validator(name).is_valid(broken)
        fast = _fast(name, SCHEMA_DIR)(broken)
        assert not (fast and not want), f"{name}: jsonschema-rs accepts what python-jsonschema refuses: {broken!r}"
        assert is_valid(broken, name) == want
        seen += not want
    assert seen > 0  # the breakages do reach what the schema refuses
