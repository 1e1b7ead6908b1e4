"""The spec is consistent: OpenAPI document, exported schemas and requirement catalogue.

These tests guard the files everything else derives from: a broken $ref, an
undocumented status, schemas that drifted from openapi.yaml or a malformed
requirement would otherwise surface as confusing failures far away.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from leasecheck.cli.spec import spec_group
from leasecheck.specs import LEVELS, catalogue, openapi, schema
from leasecheck.specs.contract.allow import allowances
from leasecheck.specs.export import build, drift, export
from leasecheck.specs.validate import is_date_time, validator

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
WRITE_ERRORS = {"400", "401", "409", "413", "422", "429"}
MANAGEMENT = WRITE_ERRORS | {"403", "404"}  # 403: the token lacks a scope
# The official contract's operation ids (tests/specs/test_contract.py checks the rest against it).
ALLOWED_STATUSES: dict[str, set[str]] = {
    "checkoutFloatingLicense": {"200", "403"} | WRITE_ERRORS,
    "heartbeatFloatingLicense": {"200", "403", "404"} | WRITE_ERRORS,
    "checkinFloatingLicense": {"200", "404"} | WRITE_ERRORS,
    "listPublicKeys": {"200"},
    "health": {"200"},
    "healthz": {"200"},
    "readyz": {"200", "503"},
    "getMetrics": {"200"},
    "createProduct": {"201"} | MANAGEMENT,
    "createPolicy": {"201"} | MANAGEMENT,
    "createLicense": {"201"} | MANAGEMENT,
    "suspendLicense": {"200"} | MANAGEMENT,
    "reinstateLicense": {"200"} | MANAGEMENT,
    "revokeLicense": {"200"} | MANAGEMENT,
}
RUNTIME = ("checkoutFloatingLicense", "heartbeatFloatingLicense", "checkinFloatingLicense")
SYSTEM = ("listPublicKeys", "health", "healthz", "readyz", "getMetrics")
COMPONENTS = [
    "Meta",
    "Signature",
    "Error",
    "ErrorEnvelope",
    "Feature",
    "VersionEligibility",
    "CheckoutData",
    "LeaseData",
    "CheckoutEnvelope",
    "LeaseEnvelope",
    "PublicKey",
    "PublicKeysEnvelope",
    "HealthEnvelope",
    "ReadyEnvelope",
    "Product",
    "ProductEnvelope",
    "Policy",
    "PolicyEnvelope",
    "License",
    "LicenseEnvelope",
    "LicenseCreated",
    "LicenseCreatedEnvelope",
    "CheckoutRequest",
    "LeaseTokenRequest",
    "ProductCreate",
    "PolicyCreate",
    "LicenseCreate",
]
REQUEST_BODIES = ("CheckoutRequest", "LeaseTokenRequest", "ProductCreate", "PolicyCreate", "LicenseCreate")


# ---------------------------------------------------------------- helpers


def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (METHOD, path, operation)."""
    out = {}
    for path, item in openapi()["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                out[op["operationId"]] = (method.upper(), path, op)
    return out


def resolve(ref: str) -> Any:
    assert ref.startswith("#/"), f"external $ref {ref!r}"
    node: Any = openapi()
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"$ref {ref!r} does not resolve"
        node = node[part]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping inside `node`, itself included."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from nodes(value)


def parameters(op_id: str) -> list[dict[str, Any]]:
    """Path-level and operation-level parameters, $refs resolved."""
    _, path, op = operations()[op_id]
    raw = openapi()["paths"][path].get("parameters", []) + op.get("parameters", [])
    return [resolve(p["$ref"]) if "$ref" in p else p for p in raw]


def json_schema_ref(response: dict[str, Any]) -> str | None:
    return response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")


def checkout_envelope() -> dict[str, Any]:
    """An answer as the reference server gives it (key order included)."""
    return {
        "data": {
            "license_id": "lic_01J9Z8",
            "status": "active",
            "license_type": "subscription",
            "entitlement_version": 3,
            "issued_at": "2026-11-27T21:00:00.000Z",
            "expires_at": "2027-11-27T00:00:00.000Z",
            "device_id": "dev_4f2a",
            "lease_token": "llt_Zq3v9yXw1bT8kP2mN5rD7a",
            "lease_expires_at": "2026-11-27T21:10:00.000Z",
            "features": [{"code": "export", "enabled": True, "quota": 10, "consumed": 2, "remaining": 8}],
            "version_eligibility": {"app_version": "2.1.0", "is_entitled": True, "enforced": False},
        },
        "signature": {
            "alg": "Ed25519",
            "kid": "key_2026_11",
            "value": "q5cV2yYb4Qz0k8m6XJ9l1rD0Ff3T7h+sA1b2C3d4E5/F6g7H8i9J0k==",
        },
        "meta": {"request_id": "req_7c1d", "timestamp": "2026-11-27T21:00:00.123Z"},
    }


# ---------------------------------------------------------------- (a) the OpenAPI document


def test_openapi_is_3_1_with_the_expected_operations() -> None:
    doc = openapi()
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert "requirements.yaml" in doc["info"]["description"]
    assert set(operations()) == set(ALLOWED_STATUSES)


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for item in openapi()["paths"].values() for m in METHODS if m in item for op in [item[m]]]
    assert len(ids) == len(set(ids))


def test_every_ref_resolves() -> None:
    found = list(refs(openapi()))
    assert found, "the document uses no $ref at all?"
    for ref in found:
        resolve(ref)


def test_component_names() -> None:
    assert list(openapi()["components"]["schemas"]) == COMPONENTS


def test_statuses_are_exactly_the_documented_sets() -> None:
    for op_id, (_, _, op) in operations().items():
        assert set(op["responses"]) == ALLOWED_STATUSES[op_id], op_id


def test_error_responses_use_error_envelope() -> None:
    for op_id, (_, _, op) in operations().items():
        for status, response in op["responses"].items():
            if int(status) < 400 or (op_id == "readyz" and status == "503"):
                continue
            assert json_schema_ref(response) == "#/components/schemas/ErrorEnvelope", f"{op_id} {status}"


def test_success_responses_are_a_component() -> None:
    for op_id, (_, _, op) in operations().items():
        for status, response in op["responses"].items():
            if op_id == "getMetrics":
                assert "text/plain" in response["content"]
            else:
                ref = json_schema_ref(response)
                assert ref and ref.startswith("#/components/schemas/"), f"{op_id} {status}"


def test_429_documents_retry_after() -> None:
    for op_id, (method, _, op) in operations().items():
        if method == "POST":
            assert "Retry-After" in op["responses"]["429"]["headers"], op_id


def test_security() -> None:
    schemes = openapi()["components"]["securitySchemes"]
    assert schemes["licenseAuth"] == {
        **schemes["licenseAuth"],
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
    }
    assert schemes["bearerAuth"]["type"] == "http" and schemes["bearerAuth"]["scheme"] == "bearer"
    for op_id, (_, _, op) in operations().items():
        expected = [] if op_id in SYSTEM else [{"licenseAuth": []}] if op_id in RUNTIME else [{"bearerAuth": []}]
        assert op["security"] == expected, op_id


def test_management_operations_name_their_scopes_and_document_403() -> None:
    for op_id, (_, _, op) in operations().items():
        if op_id in RUNTIME or op_id in SYSTEM:
            assert "x-required-scopes" not in op, op_id
            continue
        assert op["x-required-scopes"] in (["product:write"], ["license:write"]), op_id
        assert "scope" in op["responses"]["403"]["description"], op_id


def test_no_field_is_ever_null() -> None:
    """The official contract has no nullable field among ours: absent, never null."""
    for name, body in openapi()["components"]["schemas"].items():
        for node in nodes(body):
            types = node.get("type")
            assert not (isinstance(types, list) and "null" in types), f"{name}: {node}"
            assert node.get("nullable") is not True, name


def test_idempotency_key_header() -> None:
    for op_id, (method, _, _) in operations().items():
        keys = [p for p in parameters(op_id) if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        if op_id in ("checkoutFloatingLicense", "checkinFloatingLicense"):
            assert len(keys) == 1 and keys[0]["required"] is True, op_id
        elif op_id == "heartbeatFloatingLicense" or method == "GET":
            assert keys == [], op_id
        else:
            assert len(keys) == 1 and keys[0].get("required", False) is False, op_id
        for key in keys:
            assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}


def test_path_parameters_are_declared() -> None:
    for op_id, (_, path, _) in operations().items():
        declared = {p["name"] for p in parameters(op_id) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), op_id


def test_request_bodies_are_closed_and_responses_open() -> None:
    components = openapi()["components"]["schemas"]
    for name, body in components.items():
        if name in REQUEST_BODIES:
            assert body["additionalProperties"] is False, name
        else:
            assert "additionalProperties" not in body, f"{name}: servers may add fields to answers"
    assert components["LeaseTokenRequest"]["properties"]["lease_token"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 512,
    }
    assert components["LeaseTokenRequest"]["required"] == ["lease_token"]
    assert "required" not in components["CheckoutRequest"]


def test_links_target_existing_operations_and_parameters() -> None:
    ops = operations()
    seen = set()
    for op_id, (_, _, op) in ops.items():
        for response in op["responses"].values():
            for name, link in response.get("links", {}).items():
                target = link["operationId"]
                assert target in ops, f"{op_id} link {name} -> unknown {target}"
                seen.add((op_id, target))
                names = {p["name"] for p in parameters(target)}
                for param in link.get("parameters", {}):
                    assert param.split(".")[-1] in names, f"{op_id} link {name}: {param}"
                body_ref = json_schema_ref(ops[target][2].get("requestBody", {}))
                for field in link.get("requestBody", {}):
                    assert body_ref and field in resolve(body_ref)["properties"], f"{op_id} link {name}: {field}"
    assert {
        ("checkoutFloatingLicense", "heartbeatFloatingLicense"),
        ("checkoutFloatingLicense", "checkinFloatingLicense"),
        ("createProduct", "createPolicy"),
    } <= seen
    checkout_links = ops["checkoutFloatingLicense"][2]["responses"]["200"]["links"]
    for link in checkout_links.values():
        assert link["requestBody"] == {"lease_token": "$response.body#/data/lease_token"}


def test_schemathesis_loads_the_document_and_its_links() -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from leasecheck.specs import OPENAPI_PATH

    loaded = schemathesis.openapi.from_path(str(OPENAPI_PATH))
    labels = {result.ok().label for result in loaded.get_all_operations()}
    assert len(labels) == len(ALLOWED_STATUSES)
    machine = loaded.as_state_machine()
    rules = [name for name in dir(machine) if "___" in name]
    for link in ("CheckinLease", "HeartbeatLease", "CreatePolicy", "CreateLicense"):
        assert any(f"_{link}__" in rule for rule in rules), link


# ---------------------------------------------------------------- (b) exported schemas


def test_exported_schemas_have_not_drifted() -> None:
    assert drift() == [], "run `leasecheck spec export-schemas`"


def test_exported_schemas_are_valid_2020_12() -> None:
    built = build()
    assert list(built) == COMPONENTS
    for name, doc in built.items():
        Draft202012Validator.check_schema(doc)
        assert doc["$id"] == f"https://leasecheck.dev/schemas/{name}.json"
        assert schema(name) == doc
    assert built["CheckoutEnvelope"]["properties"]["data"] == {"$ref": "CheckoutData.json"}


def test_drift_reports_an_edited_file(tmp_path: Path) -> None:
    export(tmp_path)
    assert drift(tmp_path) == []
    target = tmp_path / "CheckoutData.json"
    doc = json.loads(target.read_text(encoding="utf-8"))
    doc["required"].remove("lease_token")
    target.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    problems = drift(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("CheckoutData.json: /required")


def test_drift_reports_missing_stale_and_reformatted_files(tmp_path: Path) -> None:
    export(tmp_path)
    (tmp_path / "Meta.json").unlink()
    (tmp_path / "Old.json").write_text("{}\n", encoding="utf-8")
    signature = tmp_path / "Signature.json"
    signature.write_text(json.dumps(json.loads(signature.read_text(encoding="utf-8"))), encoding="utf-8")
    problems = drift(tmp_path)
    assert problems == [
        "Meta.json: missing (component Meta is in openapi.yaml)",
        "Signature.json: formatting differs",
        "Old.json: stale (no component Old in openapi.yaml)",
    ]


def test_export_is_deterministic_and_removes_stale_files(tmp_path: Path) -> None:
    (tmp_path / "Old.json").write_text("{}\n", encoding="utf-8")
    first = {p.name: p.read_bytes() for p in export(tmp_path)}
    second = {p.name: p.read_bytes() for p in export(tmp_path)}
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.json" for n in COMPONENTS)
    assert all(b.endswith(b"}\n") for b in first.values())


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(spec_group, ["check"])
    assert ok.exit_code == 0, ok.output
    export(tmp_path)
    (tmp_path / "Error.json").unlink()
    bad = runner.invoke(spec_group, ["check", "--dir", str(tmp_path)])
    assert bad.exit_code == 1
    assert "Error.json: missing" in bad.output


def test_cli_export_writes_and_lists(tmp_path: Path) -> None:
    result = CliRunner().invoke(spec_group, ["export-schemas", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.count("wrote ") == len(COMPONENTS)
    assert drift(tmp_path) == []


# ---------------------------------------------------------------- (c) the requirement catalogue


def test_catalogue_is_sane() -> None:
    cat = catalogue()
    areas = cat["areas"]
    ids = [r["id"] for r in cat["requirements"]]
    assert len(ids) == len(set(ids)), "duplicate requirement ids"
    for req in cat["requirements"]:
        where = req.get("id", req)
        assert re.fullmatch(r"[A-Z]+-\d{2}", req["id"]), where
        assert req["level"] in LEVELS, where
        for field in ("title", "statement", "source", "area"):
            assert isinstance(req.get(field), str) and req[field].strip(), f"{where}: {field}"
        assert req["area"] in areas, f"{where}: undeclared area {req['area']}"
        assert req["source"] in {"facts", "lk-errors", "ietf-idem", "ours"}, where
        if req["source"] == "ours":
            assert isinstance(req.get("reason"), str) and req["reason"].strip(), f"{where}: source ours needs a reason"
    assert set(areas) == {r["area"] for r in cat["requirements"]}, "an area has no requirement"


def test_catalogue_explains_where_the_spec_is_stricter_than_the_contract() -> None:
    found = allowances(catalogue())  # a malformed entry raises ContractError
    assert {a.requirement for a in found} >= {"IDEM-01", "INPUT-03", "INPUT-06", "ENV-01", "SIG-01", "SIG-05"}
    assert all(len(a.reason) > 40 for a in found), "say why, not just that"


# ---------------------------------------------------------------- (d) the validator


def test_validator_accepts_a_realistic_checkout_envelope() -> None:
    errors = list(validator("CheckoutEnvelope").iter_errors(checkout_envelope()))
    assert errors == []


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d.update(expires_at=None), ["data", "expires_at"]),
        (lambda d: d["features"][0].update(quota=None), ["data", "features", 0, "quota"]),
        (lambda d: d["version_eligibility"].pop("enforced"), ["data", "version_eligibility"]),
        (lambda d: d.update(version_eligibility=None), ["data", "version_eligibility"]),
    ],
)
def test_validator_rejects_null_runtime_fields_and_untyped_eligibility(edit: Any, where: list[Any]) -> None:
    env = checkout_envelope()
    edit(env["data"])
    errors = list(validator("CheckoutEnvelope").iter_errors(env))
    assert [list(e.absolute_path) for e in errors] == [where]


def test_readyz_answers_carry_meta() -> None:
    ready = {"data": {"status": "ready", "db": "ok"}}
    assert not validator("ReadyEnvelope").is_valid(ready)
    assert validator("ReadyEnvelope").is_valid({**ready, "meta": checkout_envelope()["meta"]})


def test_validator_rejects_missing_lease_token() -> None:
    env = checkout_envelope()
    del env["data"]["lease_token"]
    errors = list(validator("CheckoutEnvelope").iter_errors(env))
    assert [e.message for e in errors] == ["'lease_token' is a required property"]
    assert list(errors[0].absolute_path) == ["data"]


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-27 21:00:00",  # no T, no offset
        "2026-11-27T21:00:00",  # no offset
        "2026-02-30T21:00:00Z",  # no such day
        "2026-11-27T24:00:00Z",
        "27/11/2026 21:00",
        "2026-11-27T21:00:00+2:00",
    ],
)
def test_validator_rejects_non_rfc3339_timestamps(stamp: str) -> None:
    env = checkout_envelope()
    env["meta"]["timestamp"] = stamp
    errors = list(validator("CheckoutEnvelope").iter_errors(env))
    assert len(errors) == 1 and errors[0].validator == "format", stamp
    assert list(errors[0].absolute_path) == ["meta", "timestamp"]


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-27T21:00:00Z",
        "2026-11-27T21:00:00.123456+05:30",
        "2026-11-27t21:00:00z",
        "2016-12-31T23:59:60Z",
    ],
)
def test_date_time_accepts_rfc3339_forms(stamp: str) -> None:
    assert is_date_time(stamp)


def test_validator_checks_nested_components_and_errors() -> None:
    env = checkout_envelope()
    env["signature"]["alg"] = "RS256"
    env["data"]["features"][0]["enabled"] = "yes"
    paths = sorted(list(e.absolute_path) for e in validator("CheckoutEnvelope").iter_errors(env))
    assert paths == [["data", "features", 0, "enabled"], ["signature", "alg"]]
    error = {
        "error": {"code": "LEASE_NOT_FOUND", "message": "no such lease"},
        "meta": {"request_id": "r", "timestamp": "2026-11-27T21:00:00Z"},
    }
    assert validator("ErrorEnvelope").is_valid(error)
    assert not validator("ErrorEnvelope").is_valid({"error": {"code": "X"}, "meta": error["meta"]})
