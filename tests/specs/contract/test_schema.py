"""leasecheck.specs.contract.schema: schemas compared by what they let through,
whatever spelling each side uses (synthetic contracts from conftest.py)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from leasecheck.specs.contract import Kind, Severity

from .conftest import contract, diff, ours_from


def test_request_bodies_ours_narrows_are_stricter_and_fields_ours_forbids_contradict(tmp_path: Path) -> None:
    theirs = contract()
    ours = ours_from(theirs)
    body = ours["components"]["schemas"]["CheckoutRequest"]
    body["properties"]["fingerprint"] = {"type": "string", "minLength": 1, "pattern": "^[a-z]+$"}
    body["required"] = ["fingerprint"]
    theirs["components"]["schemas"]["Body"]["properties"]["hostname"] = {"type": "string"}
    assert diff(tmp_path, ours, theirs) == [
        ("/requestBody/fingerprint", Kind.REQUIRED, Severity.STRICTER),
        ("/requestBody/fingerprint", Kind.MIN_LENGTH, Severity.STRICTER),
        ("/requestBody/fingerprint", Kind.PATTERN, Severity.STRICTER),
        ("/requestBody/hostname", Kind.PROPERTY, Severity.CONTRADICTION),
    ]
    body["additionalProperties"] = True
    found = diff(tmp_path, ours, theirs)
    assert ("/requestBody", Kind.ADDITIONAL_PROPERTIES, Severity.CONTRADICTION) in found


@pytest.mark.parametrize(
    "theirs_style",
    [
        {"oneOf": [{"$ref": "#/components/schemas/Eligibility"}, {"type": "null"}]},
        {"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/Eligibility"}]},
        {"allOf": [{"$ref": "#/components/schemas/Eligibility"}], "nullable": True},
        {"allOf": [{"$ref": "#/components/schemas/Eligibility"}], "type": ["object", "null"], "nullable": True},
        {"type": ["object", "null"], "required": ["app_version"], "properties": {"app_version": {"type": "string"}}},
    ],
)
def test_every_nullable_spelling_of_theirs_reads_the_same(tmp_path: Path, theirs_style: dict[str, Any]) -> None:
    eligibility = {
        "type": "object",
        "required": ["app_version"],
        "properties": {"app_version": {"type": "string"}},
    }
    theirs = contract()
    theirs["components"]["schemas"]["Eligibility"] = eligibility
    theirs["components"]["schemas"]["Data"]["properties"]["version_eligibility"] = theirs_style
    ours = ours_from(theirs)
    ours["components"]["schemas"]["CheckoutData"]["properties"]["version_eligibility"] = {
        **copy.deepcopy(eligibility),
        "type": ["object", "null"],
    }
    assert diff(tmp_path, ours, theirs) == []
    ours["components"]["schemas"]["CheckoutData"]["properties"]["version_eligibility"]["type"] = "object"
    assert diff(tmp_path, ours, theirs) == [
        ("/responses/200/data/version_eligibility", Kind.NULLABLE, Severity.STRICTER)
    ]


def test_types_formats_enums_and_items(tmp_path: Path) -> None:
    theirs = contract()
    props = theirs["components"]["schemas"]["Data"]["properties"]
    props["count"] = {"type": "number"}
    props["kind"] = {"type": "string", "enum": ["a", "b"]}
    props["tags"] = {"type": "array", "items": {"type": "string"}}
    props["version"] = {"type": "integer"}
    ours = ours_from(theirs)
    o_props = ours["components"]["schemas"]["CheckoutData"]["properties"]
    o_props["count"] = {"type": "integer"}  # narrower: stricter
    o_props["kind"] = {"const": "c"}  # a value theirs does not allow
    o_props["tags"] = {"type": "array", "items": {"type": "integer"}}
    o_props["version"] = {"type": "integer", "format": "int64"}  # width annotation only
    o_props["lease_expires_at"] = {"type": "string"}  # lost its format
    assert diff(tmp_path, ours, theirs) == [
        ("/responses/200/data/lease_expires_at", Kind.FORMAT, Severity.CONTRADICTION),
        ("/responses/200/data/count", Kind.TYPE, Severity.STRICTER),
        ("/responses/200/data/kind", Kind.ENUM, Severity.CONTRADICTION),
        ("/responses/200/data/tags/items", Kind.TYPE, Severity.CONTRADICTION),
        ("/responses/200/data/version", Kind.FORMAT, Severity.INFO),
    ]


def test_recursive_schemas_terminate(tmp_path: Path) -> None:
    theirs = contract()
    node = {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}}}
    theirs["components"]["schemas"]["Node"] = node
    theirs["components"]["schemas"]["Data"]["properties"]["tree"] = {"$ref": "#/components/schemas/Node"}
    ours = ours_from(theirs)
    ours["components"]["schemas"]["Node"] = copy.deepcopy(node)
    ours["components"]["schemas"]["CheckoutData"]["properties"]["tree"] = {"$ref": "#/components/schemas/Node"}
    assert diff(tmp_path, ours, theirs) == []
