"""results.json as JUnit XML: one testcase per requirement, because a CI gate reads requirements, not test functions."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET


def render_junit(results: dict[str, Any]) -> str:
    """A CI gate reads requirements, not test functions: one testcase each."""
    reqs = results["requirements"]
    suite = ET.Element(
        "testsuite",
        {
            "name": "leasecheck conformance",
            "tests": str(len(reqs)),
            "failures": str(sum(1 for r in reqs if r["outcome"] == "failed" and not r.get("expected_failure"))),
            "skipped": str(sum(1 for r in reqs if r["outcome"] == "not_run" or r.get("expected_failure"))),
            "errors": "0",
            "time": str(results["duration_seconds"]),
            "timestamp": results["started_at"],
        },
    )
    props = ET.SubElement(suite, "properties")
    for k, v in (
        ("target", results["target"]["url"]),
        ("suite_version", results["suite"]["version"]),
        ("spec_digest", results["suite"]["spec_digest"]),
        ("run_id", results["run_id"]),
    ):
        ET.SubElement(props, "property", {"name": k, "value": str(v)})
    for r in reqs:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"leasecheck.{r['area']}", "name": f"{r['id']} [{r['level']}] {r['title']}", "time": "0"},
        )
        evidence = "\n".join(e["message"] for e in r.get("evidence", []))
        if r["outcome"] == "failed" and r.get("expected_failure"):
            ET.SubElement(case, "skipped", {"message": f"expected failure: {r['expected_failure']}"}).text = evidence
        elif r["outcome"] == "failed":
            ET.SubElement(
                case, "failure", {"message": (r["evidence"][0]["message"] if r.get("evidence") else "failed")[:500]}
            ).text = evidence
        elif r["outcome"] == "not_run":
            ET.SubElement(case, "skipped", {"message": r.get("reason", "not run")})
        elif r["outcome"] == "warning":
            ET.SubElement(case, "system-out").text = "WARNING (SHOULD): " + evidence
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
