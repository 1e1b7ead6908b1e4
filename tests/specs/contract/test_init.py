"""leasecheck.specs.contract: our spec against an official contract.

Small synthetic contracts test the logic on their own (no shared file
needed); the last section runs the check on the real documents: our
`specs/openapi.yaml` against the official contract in `../shared/reference/`,
skipped with a reason when a clone has no such copy.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from leasecheck.specs import OPENAPI_PATH, REQUIREMENTS_PATH
from leasecheck.specs.contract import ContractError, Difference, Kind, Severity, check, differences, render

from .conftest import catalogue_with, contract, diff, failing, op_of, ours_from, run, write

# ---------------------------------------------------------------- the verdict


def test_the_same_contract_written_differently_passes(tmp_path: Path) -> None:
    theirs = contract()
    code, output = run(tmp_path, ours_from(theirs), theirs)
    assert code == 0, output
    assert output.splitlines() == [
        "contract check OK: 0 contradictions, 0 stricter (0 explained, 0 unexplained), 0 info"
    ]


def test_a_nullable_field_where_theirs_is_never_null_is_a_contradiction(tmp_path: Path) -> None:
    theirs = contract()
    ours = ours_from(theirs)
    ours["components"]["schemas"]["CheckoutData"]["properties"]["expires_at"]["type"] = ["string", "null"]
    code, output = run(tmp_path, ours, theirs)
    assert code == 1
    assert failing(output) == [
        "CONTRADICTION: checkoutFloatingLicense (POST /api/v1/license/floating/checkout) "
        "/responses/200/data/expires_at: nullable: ours [string, null], theirs string: "
        "ours allows null; theirs is never null"
    ]
    assert output.splitlines()[-1].startswith("contract check FAIL: 1 contradictions")


def test_a_required_response_field_left_out_is_a_contradiction(tmp_path: Path) -> None:
    theirs = contract()
    ours = ours_from(theirs)
    data = ours["components"]["schemas"]["CheckoutData"]
    data["required"].remove("lease_expires_at")
    del data["properties"]["lease_token"]
    data["required"].remove("lease_token")
    code, output = run(tmp_path, ours, theirs)
    assert code == 1
    lines = failing(output)
    assert len(lines) == 2
    assert "/responses/200/data/lease_expires_at: required: ours optional, theirs required" in lines[0]
    assert "checkoutFloatingLicense" in lines[1] and "/responses/200/data/lease_token: required:" in lines[1]
    assert lines[1].endswith("theirs requires it; ours does not describe it")


def test_stricter_points_fail_unless_the_catalogue_explains_them(tmp_path: Path) -> None:
    theirs = contract()
    ours = ours_from(theirs)
    ours["components"]["schemas"]["CheckoutRequest"]["properties"]["fingerprint"]["maxLength"] = 256
    code, output = run(tmp_path, ours, theirs)
    assert code == 1
    assert failing(output) == [
        "STRICTER, UNEXPLAINED: checkoutFloatingLicense (POST /api/v1/license/floating/checkout) "
        "/requestBody/fingerprint: max_length: ours 256, theirs -: ours sets maxLength 256; theirs no limit"
    ]
    explained = catalogue_with(
        {"operation": "checkoutFloatingLicense", "location": "/requestBody/*", "kind": "max_length", "reason": "r"}
    )
    code, output = run(tmp_path, ours, theirs, explained)
    assert code == 0, output
    assert output.splitlines()[0].startswith("STRICTER, explained by INPUT-99: checkoutFloatingLicense")


def test_an_allowance_never_excuses_a_contradiction_and_idle_ones_are_reported(tmp_path: Path) -> None:
    theirs = contract()
    ours = ours_from(theirs)
    ours["components"]["schemas"]["CheckoutData"]["properties"]["expires_at"]["type"] = ["string", "null"]
    code, output = run(tmp_path, ours, theirs, catalogue_with({"location": "/responses/200/data/*", "reason": "r"}))
    assert code == 1
    assert len(failing(output)) == 1
    idle = [line for line in output.splitlines() if ": allowance:" in line]
    assert idle and idle[0].startswith("INFO: * /responses/200/data/*: allowance: ours INPUT-99")


def test_the_requirement_catalogue_may_not_be_malformed(tmp_path: Path) -> None:
    theirs = contract()
    for entry, message in [
        ({"location": "/x"}, "a reason is required"),
        ({"location": "x", "reason": "r"}, "location must be a string starting with /"),
        ({"location": "/x", "reason": "r", "kind": "length"}, "unknown kind 'length'"),
        ({"location": "/x", "reason": "r", "where": "/y"}, "unknown key 'where'"),
    ]:
        with pytest.raises(ContractError, match=message):
            run(tmp_path, ours_from(theirs), theirs, catalogue_with(entry))


# ---------------------------------------------------------------- what is compared


def test_operation_ids_and_security_scheme_names_must_be_the_official_ones(tmp_path: Path) -> None:
    theirs = contract()
    ours = ours_from(theirs)
    ours["components"]["securitySchemes"] = {"LicenseKey": theirs["components"]["securitySchemes"]["licenseAuth"]}
    op_of(ours)["security"] = [{"LicenseKey": []}]
    op_of(ours)["operationId"] = "checkout"
    assert diff(tmp_path, ours, theirs) == [
        ("/operationId", Kind.OPERATION_ID, Severity.CONTRADICTION),
        ("/security", Kind.SECURITY, Severity.CONTRADICTION),
    ]
    ours["components"]["securitySchemes"]["LicenseKey"] = {"type": "http", "scheme": "bearer"}
    found = diff(tmp_path, ours, theirs)
    assert ("/security/LicenseKey/type", Kind.SECURITY_SCHEME, Severity.CONTRADICTION) in found


def test_statuses_theirs_document_must_be_ours_and_extra_errors_are_info(tmp_path: Path) -> None:
    theirs = contract()
    ours = ours_from(theirs)
    responses = op_of(ours)["responses"]
    del responses["403"]
    responses["413"] = {"description": "too large"}
    responses["201"] = copy.deepcopy(responses["200"])
    assert diff(tmp_path, ours, theirs) == [
        ("/responses/413", Kind.STATUS, Severity.INFO),
        ("/responses/201", Kind.STATUS, Severity.CONTRADICTION),
        ("/responses/403", Kind.STATUS, Severity.CONTRADICTION),
    ]


def test_parameters_are_matched_by_location_and_name_and_path_templates_by_position(tmp_path: Path) -> None:
    theirs = contract()
    ours = ours_from(theirs)
    op_of(ours)["parameters"] = [
        {"in": "header", "name": "idempotency-key", "required": False, "schema": {"type": "string"}}
    ]
    assert diff(tmp_path, ours, theirs) == [
        ("/parameters/header/idempotency-key", Kind.PARAMETER_REQUIRED, Severity.CONTRADICTION)
    ]
    op_of(ours)["parameters"] = [{"in": "header", "name": "X-Trace", "schema": {"type": "string"}}]
    assert diff(tmp_path, ours, theirs) == [
        ("/parameters/header/X-Trace", Kind.PARAMETER, Severity.INFO),
        ("/parameters/header/Idempotency-Key", Kind.PARAMETER, Severity.CONTRADICTION),
    ]
    for doc, name in ((theirs, "id"), (ours, "license")):
        path_item = doc["paths"].setdefault(f"/api/v1/licenses/{{{name}}}/revoke", {})
        path_item["post"] = {
            "operationId": "revokeLicense",
            "parameters": [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok"}},
        }
    op_of(ours)["parameters"] = copy.deepcopy(op_of(theirs)["parameters"])
    assert diff(tmp_path, ours, theirs) == []


def test_an_operation_the_contract_lacks_is_a_contradiction(tmp_path: Path) -> None:
    theirs = contract()
    ours = ours_from(theirs)
    ours["paths"]["/api/v1/license/floating/leases"] = {"get": {"operationId": "listLeases", "responses": {}}}
    assert diff(tmp_path, ours, theirs) == [("/", Kind.OPERATION, Severity.CONTRADICTION)]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "theirs: no such file"),
        ("paths: [unclosed\n", "theirs: .* is not valid YAML"),
        ("- a list\n", "not a mapping"),
        ("swagger: '2.0'\npaths: {}\n", r"not an OpenAPI 3.x document \(no `openapi` field\)"),
        ("openapi: 3.1.0\n", "has no `paths` mapping"),
        ("openapi: 3.1.0\npaths:\n  /x:\n    get: {$ref: '#/nowhere'}\n", None),
    ],
)
def test_bad_input_is_a_one_line_value_error(tmp_path: Path, text: str | None, reason: str | None) -> None:
    theirs = tmp_path / "theirs.yaml"
    if text is not None:
        theirs.write_text(text, encoding="utf-8")
    ours = write(tmp_path, "ours.yaml", ours_from(contract()))
    if reason is None:  # a well-formed document with a dangling $ref inside an operation
        theirs.write_text(
            "openapi: 3.1.0\npaths:\n  /api/v1/license/floating/checkout:\n    post:\n"
            "      responses: {'200': {$ref: '#/components/responses/Nope'}}\n",
            encoding="utf-8",
        )
        reason = "does not resolve"
    with pytest.raises(ValueError, match=reason) as caught:
        check(ours, theirs, out=io.StringIO())
    assert isinstance(caught.value, ContractError)
    assert "\n" not in str(caught.value)


def test_malformed_parts_of_a_document_compare_as_absent(tmp_path: Path) -> None:
    theirs = contract()
    op_of(theirs)["responses"] = ["200"]
    op_of(theirs)["requestBody"]["content"] = "application/json"
    code, output = run(tmp_path, ours_from(contract()), theirs)
    assert code == 1
    assert "ours documents a success status theirs does not" in output


def test_render_lists_failing_lines_first() -> None:
    info = Difference("GET /x", "x", "/responses/413", Kind.STATUS, Severity.INFO, "413", None, "extra")
    bad = Difference("GET /x", "x", "/operationId", Kind.OPERATION_ID, Severity.CONTRADICTION, "a", "x", "ids differ")
    assert render([info, bad]).splitlines() == [
        "CONTRADICTION: x (GET /x) /operationId: operation_id: ours a, theirs x: ids differ",
        "INFO: x (GET /x) /responses/413: status: ours 413, theirs -: extra",
        "contract check FAIL: 1 contradictions, 0 stricter (0 explained, 0 unexplained), 1 info",
    ]


# ---------------------------------------------------------------- the real documents

#: Fields the official contract requires in management answers that our spec does not
#: require because the reference server does not send them (issue 11 point 5): none left.
SERVER_PENDING: dict[str, set[str]] = {"Product": set(), "Policy": set(), "License": set()}
ANSWERS = {  # operationId -> (the data location of its answer, the component it is)
    "createProduct": ("/responses/201/data", "Product"),
    "createPolicy": ("/responses/201/data", "Policy"),
    "createLicense": ("/responses/201/data/license", "License"),
    "suspendLicense": ("/responses/200/data", "License"),
    "reinstateLicense": ("/responses/200/data", "License"),
    "revokeLicense": ("/responses/200/data", "License"),
}


def pending(d: Difference) -> bool:
    """A required field the reference server does not send yet (SERVER_PENDING)."""
    where, component = ANSWERS.get(d.operation_id or "", ("", ""))
    parent, _, name = d.location.rpartition("/")
    return d.kind is Kind.REQUIRED and parent == where and name in SERVER_PENDING.get(component, set())


def our_spec_copy(tmp_path: Path, edit: Any = None, requirements: Any = None) -> Path:
    """Our openapi.yaml (edited) and requirements.yaml, copied side by side into `tmp_path`."""
    doc = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    if edit is not None:
        edit(doc["components"]["schemas"])
    catalogue = yaml.safe_load(REQUIREMENTS_PATH.read_text(encoding="utf-8"))
    if requirements is not None:
        requirements(catalogue)
    write(tmp_path, "requirements.yaml", catalogue)
    return write(tmp_path, "openapi.yaml", doc)


def new_failures(tmp_path: Path, official_contract: Path, **changes: Any) -> tuple[int, list[str]]:
    """check() on an edited copy of our spec: its exit code and the failing lines our spec itself has not."""
    baseline = io.StringIO()
    check(OPENAPI_PATH, official_contract, out=baseline)
    out = io.StringIO()
    code = check(our_spec_copy(tmp_path, **changes), official_contract, out=out)
    return code, [line for line in failing(out.getvalue()) if line not in failing(baseline.getvalue())]


def test_our_spec_never_contradicts_the_official_contract(official_contract: Path) -> None:
    found = differences(OPENAPI_PATH, official_contract)
    unexpected = [d for d in found if d.failing and not pending(d)]
    assert unexpected == [], render(unexpected)
    waiting = {(d.operation_id, d.location.rsplit("/", 1)[1]) for d in found if d.failing}
    expected = {(op, name) for op, (_, component) in ANSWERS.items() for name in SERVER_PENDING[component]}
    assert waiting == expected, "SERVER_PENDING no longer matches what the check finds"
    out = io.StringIO()
    assert check(OPENAPI_PATH, official_contract, out=out) == (1 if expected else 0), out.getvalue()


def test_every_stricter_point_of_our_spec_is_explained(official_contract: Path) -> None:
    found = differences(OPENAPI_PATH, official_contract)
    stricter = [d for d in found if d.severity is Severity.STRICTER]
    assert stricter, "our spec has no stricter point at all? (the catalogue's allowances would be stale)"
    assert all(d.explained_by for d in stricter)
    assert not [d for d in found if d.kind is Kind.ALLOWANCE], "a stricter_than_contract entry explains nothing"


def test_a_copy_of_our_spec_with_a_nullable_field_fails(tmp_path: Path, official_contract: Path) -> None:
    def nullable(schemas: dict[str, Any]) -> None:
        schemas["LeaseData"]["properties"]["lease_expires_at"]["type"] = ["string", "null"]

    code, lines = new_failures(tmp_path, official_contract, edit=nullable)
    assert code == 1
    assert lines == [
        f"CONTRADICTION: {op}FloatingLicense (POST /api/v1/license/floating/{op}) "
        "/responses/200/data/lease_expires_at: nullable: ours [string, null], theirs string: "
        "ours allows null; theirs is never null"
        for op in ("heartbeat", "checkin")  # both answer LeaseData
    ]


def test_a_copy_of_our_spec_without_a_required_response_field_fails(tmp_path: Path, official_contract: Path) -> None:
    def drop(schemas: dict[str, Any]) -> None:
        schemas["CheckoutData"]["required"].remove("device_id")

    code, lines = new_failures(tmp_path, official_contract, edit=drop)
    assert code == 1
    assert lines == [
        "CONTRADICTION: checkoutFloatingLicense (POST /api/v1/license/floating/checkout) "
        "/responses/200/data/device_id: required: ours optional, theirs required: theirs requires it; "
        "ours leaves it optional"
    ]


def test_our_stricter_points_fail_once_their_explanation_is_removed(tmp_path: Path, official_contract: Path) -> None:
    def forget(catalogue: dict[str, Any]) -> None:
        for req in catalogue["requirements"]:
            if req["id"] == "IDEM-01":
                del req["stricter_than_contract"]

    code, lines = new_failures(tmp_path, official_contract, requirements=forget)
    assert code == 1
    assert lines == [
        f"STRICTER, UNEXPLAINED: {op}FloatingLicense (POST /api/v1/license/floating/{op}) "
        f"/parameters/header/Idempotency-Key: {kind}: ours {n}, theirs -: ours sets {word} {n}; theirs no limit"
        for op in ("checkout", "checkin")
        for kind, word, n in (("min_length", "minLength", 1), ("max_length", "maxLength", 255))
    ]
