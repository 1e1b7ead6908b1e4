"""Acceptance 4: the coverage table — every operation × documented status, and
every requirement's outcome — is in results.json and report.html, and a run
that exercised little says "partial" instead of looking like a full pass."""

from __future__ import annotations

import html
import json
import re

from leasecheck.conformance.coverage import Coverage, headline, requirement_summary
from leasecheck.core.client import Exchange
from leasecheck.specs import openapi, requirements


def _documented_pairs() -> set[tuple[str, int]]:
    pairs = set()
    for item in openapi()["paths"].values():
        for method, op in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                pairs |= {(op["operationId"], int(s)) for s in op["responses"] if s.isdigit()}
    return pairs


def test_results_json_has_every_operation_and_documented_status(status_runs):
    results = json.loads((status_runs.good / "results.json").read_text())
    cov = results["coverage"]
    rows = {(r["operation"], r["status"]): r for r in cov["operations"]}
    documented = _documented_pairs()
    assert {k for k, r in rows.items() if r["documented"]} == documented
    assert cov["statuses"]["documented"] == len(documented)
    # What the status scenarios do, seen: checkouts granted and refused, licenses suspended and revoked.
    for pair in (
        ("checkoutFloatingLicense", 200),
        ("checkoutFloatingLicense", 403),
        ("suspendLicense", 200),
        ("revokeLicense", 200),
        ("createLicense", 201),
    ):
        assert rows[pair]["seen"] > 0, pair
    assert rows[("checkoutFloatingLicense", 422)]["seen"] == 0  # not exercised by this run, and shown as such
    assert cov["statuses"]["documented_seen"] == sum(1 for r in rows.values() if r["documented"] and r["seen"])


def test_results_json_accounts_for_every_requirement(status_runs):
    results = json.loads((status_runs.good / "results.json").read_text())
    q = results["coverage"]["requirements"]
    assert q["total"] == len(requirements()) == len(results["requirements"])
    for outcome in ("passed", "failed", "warning", "not_run"):
        assert q[outcome] == results["counts"][outcome]
    not_run = {r["id"]: r for r in results["requirements"] if r["outcome"] == "not_run"}
    assert {n["id"] for n in q["not_run_reasons"]} == set(not_run)
    assert all(n["reason"] for n in q["not_run_reasons"])
    assert results["coverage"]["complete"] is False and q["checked"] == q["total"] - q["not_run"]


def test_a_partial_run_does_not_look_like_a_pass(status_runs):
    results = json.loads((status_runs.good / "results.json").read_text())
    q = results["coverage"]["requirements"]
    assert results["outcome"] == "passed"  # the exit code is still that of the checks that ran ...
    verdict = next(ln for ln in status_runs.good_proc.stdout.splitlines() if ln.startswith("PASSED"))
    assert verdict.startswith(
        f"PASSED (partial: {q['checked']} of {q['total']} requirements checked)"
    )  # ... but it says so
    page = html.unescape((status_runs.good / "report.html").read_text())
    assert f"partial: {q['checked']} of {q['total']} requirements checked" in page


def test_report_html_has_the_coverage_table(status_runs):
    results = json.loads((status_runs.good / "results.json").read_text())
    page = (status_runs.good / "report.html").read_text()
    assert "Coverage: what the run exercised" in page
    # One row per operation: each documented status seen, with how many times.
    rows = dict(re.findall(r"<tr><td><b>(\w+)</b>.*?</td>\s*<td class=\"chips\">(.*?)</td>", page, re.S))
    for r in results["coverage"]["operations"]:
        if r["seen"] and r.get("documented", True):
            assert f"<b>{r['status']}</b> ×{r['seen']}" in rows[r["operation"]], r
    for n in results["coverage"]["requirements"]["not_run_reasons"][:3]:
        assert f'href="#{n["id"]}">{n["id"]}</a>' in page


def test_undocumented_statuses_are_listed_and_unknown_routes_counted():
    cov = Coverage()
    for method, path, status in (
        ("POST", "/api/v1/license/floating/checkout", 200),
        ("POST", "/api/v1/license/floating/checkout", 418),
        ("POST", "/api/v1/licenses/lic_1/revoke", 200),
        ("GET", "/no/such/route", 404),
    ):
        cov.observe(Exchange(method, path, {}, None, 0.0, 0.0, status=status))
    cov.observe(Exchange("GET", "/health", {}, None, 0.0, 0.0, error="ConnectError"))  # no answer: not counted
    rows = {(r["operation"], r["status"]): r for r in cov.operations()}
    assert rows[("checkoutFloatingLicense", 200)]["seen"] == 1 and rows[("revokeLicense", 200)]["seen"] == 1
    checkout_418 = rows[("checkoutFloatingLicense", 418)]
    assert checkout_418 == {**checkout_418, "documented": False, "seen": 1}
    assert cov.unmatched == 1


def test_headline_is_plain_only_for_a_complete_run():
    full = {"complete": True, "requirements": requirement_summary([{"id": "A", "level": "MUST", "outcome": "passed"}])}
    part = {
        "complete": False,
        "requirements": requirement_summary(
            [
                {"id": "A", "level": "MUST", "outcome": "passed"},
                {"id": "B", "level": "MUST", "outcome": "not_run", "reason": "area not selected (--only)"},
            ]
        ),
    }
    assert headline("passed", full) == "PASSED"
    assert headline("passed", part) == "PASSED (partial: 1 of 2 requirements checked)"
