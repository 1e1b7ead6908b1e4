"""Export the OpenAPI components as standalone JSON Schema 2020-12 files.

OpenAPI is where the shapes are written; `specs/schemas/*.json` is what code
outside schemathesis validates against. The files are generated and committed,
and `drift()` (run by `leasecheck spec check` and tests/test_spec.py) fails as
soon as the two disagree, so nobody edits one and forgets the other.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from . import SCHEMA_DIR, openapi
from .validate import validator

__all__ = ["BASE_URI", "DIALECT", "build", "drift", "export", "render", "validator"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_URI = "https://leasecheck.dev/schemas/"
_COMPONENT_PREFIX = "#/components/schemas/"


def _rewrite_refs(node: Any, name: str) -> Any:
    """A copy of `node` whose component `$ref`s point at sibling files."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                if not value.startswith(_COMPONENT_PREFIX):
                    raise ValueError(f"{name}: cannot export $ref {value!r} (only {_COMPONENT_PREFIX}* is supported)")
                out[key] = f"{value[len(_COMPONENT_PREFIX) :]}.json"
            else:
                out[key] = _rewrite_refs(value, name)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, name) for v in node]
    return copy.deepcopy(node)


def build() -> dict[str, dict[str, Any]]:
    """Component name -> standalone schema, in the OpenAPI document's order."""
    components = openapi().get("components", {}).get("schemas", {})
    return {
        name: {"$schema": DIALECT, "$id": f"{BASE_URI}{name}.json", **_rewrite_refs(body, name)}
        for name, body in components.items()
    }


def render(schema: dict[str, Any]) -> str:
    """The exact file text: key order kept, indent 2, UTF-8, trailing newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def export(out_dir: Path = SCHEMA_DIR) -> list[Path]:
    """Write every component to `out_dir/<Name>.json` and delete stale files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    schemas = build()
    written = []
    for name, schema in schemas.items():
        path = out_dir / f"{name}.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    for path in sorted(out_dir.glob("*.json")):
        if path.stem not in schemas:
            path.unlink()
    return written


def _first_difference(expected: Any, actual: Any, where: str = "") -> str | None:
    """JSON pointer and a short note for the first place two values differ."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected:
            if key not in actual:
                return f"{where}/{key}: missing on disk"
            found = _first_difference(expected[key], actual[key], f"{where}/{key}")
            if found:
                return found
        for key in actual:
            if key not in expected:
                return f"{where}/{key}: not in openapi.yaml"
        if list(expected) != list(actual):
            return f"{where or '/'}: key order differs"
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{where or '/'}: {len(actual)} items on disk, {len(expected)} in openapi.yaml"
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            found = _first_difference(e, a, f"{where}/{i}")
            if found:
                return found
        return None
    if expected != actual or type(expected) is not type(actual):
        return f"{where or '/'}: {json.dumps(actual, ensure_ascii=False)} on disk, {json.dumps(expected, ensure_ascii=False)} in openapi.yaml"
    return None


def drift(directory: Path = SCHEMA_DIR) -> list[str]:
    """What differs between `build()` and the files in `directory`; empty when in sync."""
    schemas = build()
    problems = []
    for name, schema in schemas.items():
        path = directory / f"{name}.json"
        if not path.is_file():
            problems.append(f"{path.name}: missing (component {name} is in openapi.yaml)")
            continue
        text = path.read_text(encoding="utf-8")
        if text == render(schema):
            continue
        try:
            on_disk = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(f"{path.name}: not valid JSON ({exc})")
            continue
        difference = _first_difference(schema, on_disk)
        problems.append(f"{path.name}: {difference or 'formatting differs'}")
    if directory.is_dir():
        for path in sorted(directory.glob("*.json")):
            if path.stem not in schemas:
                problems.append(f"{path.name}: stale (no component {path.stem} in openapi.yaml)")
    return problems
