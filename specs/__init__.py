"""The spec everything derives from: OpenAPI, requirement catalogue, JSON Schemas.

Files live beside this module so they ship inside the wheel; readers use the
functions here rather than building paths themselves.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).resolve().parent
OPENAPI_PATH = SPEC_DIR / "openapi.yaml"
REQUIREMENTS_PATH = SPEC_DIR / "requirements.yaml"
SCHEMA_DIR = SPEC_DIR / "schemas"

LEVELS = ("MUST", "SHOULD", "MAY")


def _yaml(path: Path) -> Any:
    import yaml  # on first read, not at import: a command's `--help` needs only the paths above

    # libyaml's safe loader when PyYAML has it: the same documents, a seventh of the CPU.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


@functools.cache
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document as a dict."""
    return _yaml(OPENAPI_PATH)


@functools.cache
def catalogue() -> dict[str, Any]:
    """The whole requirement catalogue (areas and requirements)."""
    return _yaml(REQUIREMENTS_PATH)


def requirements() -> dict[str, dict[str, Any]]:
    """Requirements keyed by id, in catalogue order."""
    return {r["id"]: r for r in catalogue()["requirements"]}


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """One exported JSON Schema (2020-12) by component name, e.g. "CheckoutEnvelope"."""
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def digest() -> str:
    """sha256 over the OpenAPI document and the catalogue: names the spec a run used."""
    h = hashlib.sha256()
    for p in (OPENAPI_PATH, REQUIREMENTS_PATH):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()
