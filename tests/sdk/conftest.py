"""The official contract's response schemas, to judge what the SDK receives.

The contract is third-party reference data beside the checkout
(`../shared/reference/licensekit-contract/openapi.yaml`), not part of the
product: without it these tests skip and say why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from leasecheck.core.server_process import ReferenceServer

BASE = "urn:licensekit-contract"


class Contract:
    """Validate an answer's JSON body against the official schema for its operation and status."""

    def __init__(self, path: Path) -> None:
        self.doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(BASE, resource)
        self._routes = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in self.doc["paths"]]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        for rx, template in self._routes:
            if rx.match(path) and method.lower() in self.doc["paths"][template]:
                return template, self.doc["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path} is not an operation of the official contract")

    def problems(self, response: httpx.Response) -> list[str]:
        """Every way the answer's body breaks the official schema (empty: it conforms)."""
        req = response.request
        template, op = self.operation(req.method, req.url.path)
        documented = op.get("responses", {})
        status = str(response.status_code) if str(response.status_code) in documented else "default"
        where = f"{req.method} {template} -> {response.status_code}"
        if status not in documented:
            return [f"{where}: status not documented (documented: {sorted(documented)})"]
        esc = template.replace("~", "~0").replace("/", "~1")
        spec, pointer = self._deref(documented[status], f"/paths/{esc}/{req.method.lower()}/responses/{status}")
        if "application/json" not in (spec.get("content") or {}):
            return [] if not response.content else [f"{where}: documented without a JSON body"]
        # A $ref into the document itself, so that every ref inside the schema resolves there.
        validator = Draft202012Validator(
            {"$ref": f"{BASE}#{pointer}/content/application~1json/schema"}, registry=self.registry
        )
        return [
            f"{where}: {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in validator.iter_errors(response.json())
        ]

    def _deref(self, node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
        while "$ref" in node:
            pointer = node["$ref"].lstrip("#")
            node = self._resolve(node["$ref"])
        return node, pointer

    def _resolve(self, ref: str) -> Any:
        node: Any = self.doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node


@pytest.fixture(scope="session")
def contract(official_contract: Path) -> Contract:
    return Contract(official_contract)


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(minute_seconds=1.0) as srv:
        yield srv
