"""report.html from results.json, without a browser: what it says, in which order, and what it never does.

The results here are hand-built in the shape `results.build_results` writes, so
each test states the one situation it is about (an excused failure, a SHOULD
failing beside a MUST, a note on a passed requirement). The browser test
renders real runs.
"""

from __future__ import annotations

import json
import re
import shlex
import unicodedata
from html.parser import HTMLParser
from typing import Any

import pytest

from leasecheck.conformance.report import render_html, render_junit
from leasecheck.conformance.report.exchange import INVISIBLE_CATEGORIES, curl_command, display_body, pretty_json
from leasecheck.conformance.report.spec_text import LEVEL_MEANING, requirement_text, sources
from leasecheck.core.redact import find_secrets
from leasecheck.specs import requirements

BASE = "http://127.0.0.1:8123"
CHECKOUT_BODY = '{"fingerprint": "fp-1", "hostname": "it\'s-<me>", "app_version": "1.0-ß"}'


def exchange(status: int = 409, body: str | None = None) -> dict[str, Any]:
    return {
        "request": {
            "method": "POST",
            "path": "/api/v1/license/floating/checkout",
            "headers": {
                "Authorization": "License [REDACTED]",
                "Idempotency-Key": "lc-0001",
                "Content-Type": "application/json",
                "Content-Length": "80",
            },
            "body": CHECKOUT_BODY,
        },
        "response": {
            "status": status,
            "headers": {"content-type": "application/json"},
            "body": body
            if body is not None
            else '{"error":{"code":"FLOATING_LIMIT_EXCEEDED","message":"no seat"},"meta":{"request_id":"req_1"}}',
        },
        "transport_error": None,
        "sent_at": 100.0,
        "received_at": 100.012,
    }


def req(rid: str, outcome: str, **extra: Any) -> dict[str, Any]:
    cat = requirements()[rid]
    return {"id": rid, "level": cat["level"], "area": cat["area"], "title": cat["title"], "outcome": outcome, **extra}


def failing(rid: str, message: str, **extra: Any) -> dict[str, Any]:
    outcome = "failed" if requirements()[rid]["level"] == "MUST" else "warning"
    evidence = [{"test": "scenarios/test_x.py::test_y", "message": message, "exchanges": [exchange()]}]
    return req(rid, outcome, evidence=evidence, tests=["scenarios/test_x.py::test_y"], **extra)


def results(reqs: list[dict[str, Any]], outcome: str | None = None, **extra: Any) -> dict[str, Any]:
    """Every requirement of the catalogue: those given, the rest passed."""
    given = {r["id"]: r for r in reqs}
    all_reqs = [given.get(rid) or req(rid, "passed") for rid in requirements()]
    blocking = any(r["outcome"] == "failed" and not r.get("expected_failure") for r in all_reqs)
    counts = {o: sum(1 for r in all_reqs if r["outcome"] == o) for o in ("passed", "failed", "warning", "not_run")}
    counts["expected_failures"] = sum(1 for r in all_reqs if r.get("expected_failure"))
    return {
        "schema_version": 1,
        "suite": {"name": "leasecheck", "version": "0.1.0", "spec_digest": "ab" * 32, "python": "3.11"},
        "run_id": "r1",
        "started_at": "2026-12-01T10:00:00+00:00",
        "finished_at": "2026-12-01T10:01:00+00:00",
        "duration_seconds": 60.0,
        "target": {"url": BASE, "bundled": False, "minute_seconds": 60.0, "provisioning": "management"},
        "selection": {"areas": "all", "tests": 3},
        "outcome": outcome or ("failed" if blocking else "passed"),
        "interrupted": False,
        "counts": counts,
        "messages": [],
        "requirements": all_reqs,
        "tests": [],
        **extra,
    }


# ---------------------------------------------------------------- bodies and curl
def test_json_bodies_are_indented_and_small_parts_stay_on_one_line():
    b = display_body('{"data":{"features":[{"code":"a","enabled":true}],"license_id":"lic_1"},"meta":{"x":1}}')
    assert b.kind == "json"
    assert '{"code": "a", "enabled": true}' in b.text  # a small object is one line
    assert json.loads(b.text) == json.loads(
        '{"data":{"features":[{"code":"a","enabled":true}],"license_id":"lic_1"},"meta":{"x":1}}'
    )


def test_long_json_breaks_into_lines_that_parse_back():
    value = {"data": {f"field_{i}": f"value number {i}" for i in range(12)}}
    text = pretty_json(value)
    assert text.count("\n") >= 12
    assert json.loads(text) == value


def test_invisible_characters_are_shown_escaped_and_readable_ones_are_not():
    text = display_body('{"code":"line\u2028sep","name":"日本語 größe 😀"}').text
    assert "\\u2028" in text and "\u2028" not in text
    assert "日本語 größe 😀" in text


def test_every_invisible_character_of_the_plane_is_escaped_and_no_other():
    """Characters are looked up as they occur (not one class built at import): the same set."""
    chars = [chr(c) for c in range(0x80, 0x10000) if not 0xD800 <= c < 0xE000]
    want = "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in INVISIBLE_CATEGORIES else c for c in chars)
    assert pretty_json("".join(chars)) == f'"{want}"'


@pytest.mark.parametrize(
    "body,kind,note",
    [
        ("not json at all", "text", ""),
        ('{"a": 1, "a": 2}', "text", "duplicate"),  # parsing would hide the duplicate
        ('{"a": "' + "x" * 4000, "text", "first 4000 bytes"),  # cut by the recorder
        ("", "empty", ""),
        (None, "empty", ""),
    ],
)
def test_bodies_that_are_not_plain_json_are_shown_as_received(body, kind, note):
    b = display_body(body)
    assert b.kind == kind
    if body:
        assert b.text == body
    assert note in b.note


def test_curl_sends_the_recorded_request_byte_for_byte():
    cmd = curl_command(BASE + "/", exchange()["request"])
    argv = shlex.split(cmd.replace("\\\n", " "))
    assert argv[:6] == ["curl", "-sS", "-i", "-X", "POST", BASE + "/api/v1/license/floating/checkout"]
    headers = [argv[i + 1] for i, a in enumerate(argv) if a == "-H"]
    assert headers == [
        "Authorization: License [REDACTED]",  # as redacted in results.json, never a key
        "Idempotency-Key: lc-0001",
        "Content-Type: application/json",
    ]  # Content-Length is curl's to compute
    assert argv[argv.index("--data-raw") + 1] == CHECKOUT_BODY  # quote, <, ß survive the shell


def test_a_get_without_body_is_a_plain_curl():
    cmd = curl_command(BASE, {"method": "GET", "path": "/readyz", "headers": {}, "body": None})
    assert shlex.split(cmd) == ["curl", "-sS", "-i", BASE + "/readyz"]


# ---------------------------------------------------------------- the catalogue's words
def test_every_source_the_catalogue_uses_is_explained():
    used = {r["source"] for r in requirements().values()}
    assert used <= set(sources()), (
        f"no description in requirements.yaml's '# Sources:' block for {used - set(sources())}"
    )


def test_requirement_text_comes_from_the_catalogue():
    t = requirement_text("IDEM-01", "MUST")
    cat = requirements()["IDEM-01"]
    assert t.statement == cat["statement"] and t.accepted == cat["accepted"] and t.reference == cat["reference"]
    assert t.level_meaning == LEVEL_MEANING["MUST"] and "fails the run" in t.level_meaning
    assert t.source_text  # what "facts" stands for


# ---------------------------------------------------------------- the page
class _Page(HTMLParser):
    """Ids, links and tags of a page, plus the text of each element with an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "a" and a.get("href"):
            self.hrefs.append(str(a["href"]))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&#34;", '"')


def test_an_excused_failure_is_named_in_the_headline():
    r = results([failing("CAP-02", "next checkout answered 200", expected_failure="ticket LK-9")], outcome="passed")
    html = render_html(r)
    head = text_of(html.split('id="failures"')[0])
    assert "PASSED" in head and "1 excused failure" in head
    assert "passes only because 1 MUST failure is excused" in head and "CAP-02" in head
    assert "1 failed (1 excused)" in head
    assert "ticket LK-9" in html


def test_must_failures_come_first_then_warnings_by_level_then_id():
    r = results(
        [
            failing("SIG-08", "non-ASCII data"),  # SHOULD
            failing("EXP-04", "revived"),  # MAY
            failing("CAP-03", "no telling code"),  # SHOULD
            failing("LIFE-04", "no llt_ prefix"),  # SHOULD
            failing("SIG-01", "does not verify"),  # MUST, last in catalogue order of the two MUSTs
            failing("CAP-02", "next checkout answered 200"),  # MUST
        ]
    )
    html = render_html(r)
    order = re.findall(r'<section class="card (\w+)" id="([A-Z]+-\d+)"', html)
    assert order == [
        ("failed", "CAP-02"),
        ("failed", "SIG-01"),
        ("warning", "CAP-03"),
        ("warning", "LIFE-04"),
        ("warning", "SIG-08"),
        ("warning", "EXP-04"),
    ]
    assert html.index('id="failures"') < html.index('id="warnings"') < html.index('id="matrix"')


def test_a_failure_card_says_what_the_requirement_says_and_what_was_seen():
    html = render_html(results([failing("IDEM-01", "checkout without a key answered 200")]))
    card = html[html.index('id="IDEM-01"') : html.index("</section>", html.index('id="IDEM-01"'))]
    cat = requirements()["IDEM-01"]
    text = text_of(card)
    for expected in (
        cat["statement"],
        cat["accepted"],
        LEVEL_MEANING["MUST"],
        "Seen: checkout without a key answered 200",
    ):
        assert expected in text
    assert sources()["facts"] in text
    assert "curl -sS -i -X POST" in text and "Authorization: License [REDACTED]" in text
    assert '"code": "FLOATING_LIMIT_EXCEEDED"' in text  # the response body, indented


def test_every_link_lands_and_every_requirement_has_an_anchor():
    r = results(
        [failing("SIG-01", "does not verify"), req("AUTH-02", "not_run", reason="needs two licenses")],
        coverage={
            "complete": False,
            "requirements": {
                "passed": 72,
                "failed": 1,
                "warning": 0,
                "not_run": 1,
                "total": 74,
                "checked": 73,
                "not_run_reasons": [{"id": "AUTH-02", "level": "MUST", "reason": "needs two licenses"}],
            },
            "statuses": {"documented": 2, "documented_seen": 1, "operations": 1, "operations_seen": 1},
            "operations": [],
        },
        tests=[{"nodeid": "t::a", "outcome": "passed", "duration": 0.1, "requirements": ["CAP-04", "SIG-01"]}],
    )
    page = _Page(render_html(r))
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    missing = [h for h in page.hrefs if h.startswith("#") and h[1:] not in page.ids]
    assert not missing, f"links to anchors that do not exist: {missing}"
    assert set(requirements()) <= set(page.ids)
    assert all(not h.startswith(("http:", "https:", "//")) for h in page.hrefs)


def test_notes_of_passed_requirements_are_on_the_page():
    note = "reaper race: 1 of 48 racing checkouts won (rounds sent at -0.18, +0.06 s)"
    html = render_html(results([req("CAP-04", "passed", notes=[note])]))
    row = html[html.index('id="CAP-04"') : html.index("</tr>", html.index('id="CAP-04"'))]
    assert note in text_of(row)


def test_a_must_nobody_checked_is_listed_with_the_failures():
    html = render_html(results([req("EXP-01", "not_run", reason="no check ran for it")], outcome="failed"))
    failures = html[html.index('id="failures"') : html.index('id="warnings"')]
    assert 'id="EXP-01"' in failures and "no check ran for it" in failures
    assert "had no check that ran: EXP-01" in text_of(html.split('id="failures"')[0])


def test_the_official_sdks_table_shows_when_results_carry_interop():
    interop = {
        "sdks": [
            {"sdk": "typescript", "label": "TypeScript SDK (@licensekit/sdk)", "verified": 40, "failed": 0,
             "failed_non_ascii_only": 0, "ok": True, "verdict": "every signed answer verified (40)", "examples": []},
            {"sdk": "python", "label": "Python SDK (licensekit-sdk)", "verified": 37, "failed": 3,
             "failed_non_ascii_only": 3, "ok": False, "verdict": "3 of 40 signed answers cannot verify",
             "examples": [{"answer": "POST /checkout -> 200", "why": "non-ASCII in data"}]},
        ],
        "non_ascii_answers": 3,
    }  # fmt: skip
    with_it = render_html(results([], interop=interop))
    head = text_of(with_it.split('id="failures"')[0])
    assert "Official SDKs" in head and "Python SDK (licensekit-sdk)" in head and "3 of 40 signed answers" in head
    assert "Official SDKs" not in render_html(results([]))


def test_the_page_fetches_nothing():
    html = render_html(results([failing("SIG-01", "does not verify")]))
    page = _Page(html)
    fetching = [(t, a) for t, a in page.tags if t in ("script", "link", "img", "iframe", "object", "embed")]
    assert not fetching and not any("src" in a for _, a in page.tags)
    style = html[html.index("<style>") : html.index("</style>")]
    assert "url(" not in style and "@import" not in style


def test_the_page_shows_secrets_redacted_as_results_json_has_them():
    html = render_html(results([failing("SIG-01", "does not verify")]))
    assert find_secrets(text_of(html)) == []
    assert "License [REDACTED]" in html


def test_a_minimal_results_json_renders():
    r = {k: v for k, v in results([]).items() if k not in ("tests", "messages", "selection")}
    r["selection"] = {"areas": ["capacity"], "tests": 0}
    assert "PASSED" in render_html(r)


def test_junit_counts_excused_failures_as_skipped():
    r = results([failing("CAP-02", "answered 200", expected_failure="ticket")], outcome="passed")
    xml = render_junit(r)
    assert 'failures="0"' in xml and "expected failure: ticket" in xml
