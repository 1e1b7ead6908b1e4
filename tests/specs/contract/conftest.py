"""Small synthetic contracts for the contract-check tests: the official document's
style on one side, ours written differently on the other, both written to disk."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import yaml

from leasecheck.specs.contract import Kind, Severity, check, compare
from leasecheck.specs.contract.load import load

CHECKOUT = ("post", "/api/v1/license/floating/checkout")


def contract() -> dict[str, Any]:
    """A tiny contract in the official document's style ($refs, inline envelopes)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "theirs", "version": "0"},
        "components": {
            "securitySchemes": {"licenseAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}},
            "parameters": {
                "Key": {"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"}}
            },
            "schemas": {
                "Data": {
                    "type": "object",
                    "required": ["lease_token", "lease_expires_at"],
                    "properties": {
                        "lease_token": {"type": "string"},
                        "lease_expires_at": {"type": "string", "format": "date-time"},
                        "expires_at": {"type": "string", "format": "date-time"},
                    },
                },
                "Body": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"fingerprint": {"type": "string"}},
                },
            },
        },
        "paths": {
            "/api/v1/license/floating/checkout": {
                "post": {
                    "operationId": "checkoutFloatingLicense",
                    "security": [{"licenseAuth": []}],
                    "parameters": [{"$ref": "#/components/parameters/Key"}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["data"],
                                        "properties": {"data": {"$ref": "#/components/schemas/Data"}},
                                    }
                                }
                            },
                        },
                        "403": {"description": "forbidden"},
                    },
                }
            }
        },
    }


def ours_from(theirs: dict[str, Any]) -> dict[str, Any]:
    """Ours starts as an identical copy written differently (inline schemas, other component names)."""
    doc = copy.deepcopy(theirs)
    doc["components"]["schemas"] = {
        "CheckoutData": copy.deepcopy(theirs["components"]["schemas"]["Data"]),
        "CheckoutRequest": copy.deepcopy(theirs["components"]["schemas"]["Body"]),
    }
    op = doc["paths"][CHECKOUT[1]][CHECKOUT[0]]
    op["requestBody"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/CheckoutRequest"}
    envelope = op["responses"]["200"]["content"]["application/json"]["schema"]
    envelope["properties"]["data"] = {"$ref": "#/components/schemas/CheckoutData"}
    return doc


def op_of(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["paths"][CHECKOUT[1]][CHECKOUT[0]]


def write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def run(tmp_path: Path, ours: dict[str, Any], theirs: dict[str, Any], catalogue: Any = None) -> tuple[int, str]:
    """check() on the two documents (and a catalogue, when given): exit code and output."""
    folder = tmp_path / "spec"
    folder.mkdir(exist_ok=True)
    ours_path = write(folder, "openapi.yaml", ours)
    if catalogue is not None:
        write(folder, "requirements.yaml", catalogue)
    out = io.StringIO()
    code = check(ours_path, write(tmp_path, "theirs.yaml", theirs), out=out)
    return code, out.getvalue()


def failing(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("CONTRADICTION", "STRICTER, UNEXPLAINED"))]


def catalogue_with(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"requirements": [{"id": "INPUT-99", "title": "t", "stricter_than_contract": list(entries)}]}


def diff(tmp_path: Path, ours: dict[str, Any], theirs: dict[str, Any]) -> list[tuple[str, Kind, Severity]]:
    """(location, kind, severity) of every difference, no allowances applied."""
    o, t = write(tmp_path, "o.yaml", ours), write(tmp_path, "t.yaml", theirs)
    return [(d.location, d.kind, d.severity) for d in compare(load(o, "ours"), load(t, "theirs"))]
