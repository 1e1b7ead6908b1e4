"""Reading an OpenAPI 3.x document for the contract check, and following its `$ref`s.

Both sides are read the same way: ours (`specs/openapi.yaml`) and the
official contract a user points the check at. Everything that can go wrong
with the files themselves becomes a `ContractError` with one line saying
what, so the CLI never shows a traceback for a wrong path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .model import ContractError

__all__ = ["METHODS", "Document", "Operation", "load"]

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_TEMPLATE = re.compile(r"\{[^}/]+\}")


@dataclass(frozen=True)
class Operation:
    """One operation with what it inherits from its path item and document."""

    method: str  # upper case
    path: str  # as the document spells it
    node: dict[str, Any]
    path_item: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        """What matches an operation across documents: method and path with template names blanked."""
        return (self.method, _TEMPLATE.sub("{}", self.path))

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def operation_id(self) -> str | None:
        op_id = self.node.get("operationId")
        return op_id if isinstance(op_id, str) else None


@dataclass
class Document:
    """A parsed OpenAPI document; `resolve` follows local `$ref`s."""

    path: Path
    raw: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def pointer(self, ref: str) -> Any:
        """The node a local reference (`#/components/...`) names."""
        if ref in self._cache:
            return self._cache[ref]
        if not ref.startswith("#"):
            raise ContractError(f"{self.path}: only local $refs are supported, found {ref!r}")
        node: Any = self.raw
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise ContractError(f"{self.path}: $ref {ref!r} does not resolve")
        self._cache[ref] = node
        return node

    def resolve(self, node: Any) -> Any:
        """`node` with a chain of pure `$ref`s followed (siblings are the caller's business)."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise ContractError(f"{self.path}: $ref cycle through {ref!r}")
            seen.add(ref)
            node = self.pointer(ref)
        return node

    def security_schemes(self) -> dict[str, Any]:
        schemes = self.raw.get("components", {}).get("securitySchemes", {})
        return schemes if isinstance(schemes, dict) else {}

    def operations(self) -> dict[tuple[str, str], Operation]:
        """Every operation, keyed by `Operation.key`."""
        out: dict[tuple[str, str], Operation] = {}
        for path, item in self.raw.get("paths", {}).items():
            item = self.resolve(item)
            if not isinstance(item, dict):
                continue
            for method in METHODS:
                node = item.get(method)
                if isinstance(node, dict):
                    op = Operation(method.upper(), str(path), node, item)
                    out[op.key] = op
        return out

    def security(self, op: Operation) -> list[dict[str, Any]]:
        """The operation's security requirements (its own, else the document's)."""
        value = op.node["security"] if "security" in op.node else self.raw.get("security", [])
        return value if isinstance(value, list) else []


def load(path: Path | str, role: str) -> Document:
    """Parse `path` as an OpenAPI 3.x document; `role` ("ours", "theirs") names it in errors."""
    path = Path(path)
    if not path.is_file():
        raise ContractError(f"{role}: no such file: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{role}: cannot read {path}: {exc.__class__.__name__}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ContractError(f"{role}: {path} is not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ContractError(f"{role}: {path} is not an OpenAPI document (not a mapping)")
    version = raw.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        found = "no `openapi` field" if version is None else f"openapi {version!r}"
        raise ContractError(f"{role}: {path} is not an OpenAPI 3.x document ({found})")
    if not isinstance(raw.get("paths"), dict):
        raise ContractError(f"{role}: {path} has no `paths` mapping")
    return Document(path, raw)
