"""triage: every enabled check has a rule, and each rule names the requirement (or tolerates) as documented."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest

from leasecheck.conformance.generated.config import CHECKS
from leasecheck.conformance.generated.run import REQUIREMENTS, GeneratedRun
from leasecheck.conformance.generated.triage import (
    RULES,
    Broken,
    Context,
    Fail,
    Reported,
    Tolerate,
    Verdict,
    triage,
    unanswered,
)
from leasecheck.core.client import Http
from leasecheck.core.server_process import ReferenceServer

from .conftest import lease, observation, requirements, run_of

UNREACHABLE = "http://127.0.0.1:9"  # rules that must not send anything get nowhere to send it


def decide(check: str, run: GeneratedRun, index: int = -1, base_url: str = UNREACHABLE) -> Verdict:
    o = run.observations[index]
    reported = Reported(check, "Title", "what schemathesis said", o.case_id)
    return RULES[check].decide(reported, o, Context(run, functools.partial(Http, base_url, timeout=5.0)))


def test_every_enabled_check_has_a_rule_and_every_rule_names_judged_requirements():
    assert set(RULES) == set(CHECKS)
    assert {rid for rule in RULES.values() for rid in rule.requirements} <= set(REQUIREMENTS)


VALID = {"fingerprint": "a"}


@pytest.mark.parametrize(
    "check,o,verdict",
    [
        ("not_a_server_error", observation("checkout", 500, VALID), Fail("INPUT-04")),
        ("status_code_conformance", observation("checkout", 418, VALID), Fail("ENV-04")),
        (
            "status_code_conformance",
            observation("checkout", 503, VALID),
            Tolerate("status_code_conformance: 429/503 are always allowed (ENV-04)"),
        ),
        ("content_type_conformance", observation("checkout", 200, VALID), Fail("ENV-01")),
        (
            "negative_data_rejection",
            observation("checkout", 200, VALID, mode="negative"),
            Tolerate("negative_data_rejection: the request as sent is valid (schemathesis#2983)"),
        ),
        (
            "negative_data_rejection",
            observation("checkout", 200, {"fingerprint": "a", "x": 1}, key=None, mode="negative"),
            Fail("IDEM-01", " (the request breaks: no Idempotency-Key header)"),
        ),
        ("missing_required_header", observation("heartbeat", 200, {"lease_token": "t"}, auth=None), Fail("AUTH-01")),
        ("missing_required_header", observation("checkin", 200, {"lease_token": "t"}, key=None), Fail("IDEM-02")),
        (
            "missing_required_header",
            observation("heartbeat", 200, {"lease_token": "t"}),
            Broken("missing_required_header on heartbeatFloatingLicense: Title"),
        ),
        ("unsupported_method", observation("checkout", 200, VALID), Fail("INPUT-05")),
        ("positive_data_acceptance", observation("checkout", 400, VALID), Fail("LIFE-01")),
        ("positive_data_acceptance", observation("checkin", 400, {"lease_token": "t"}), Fail("CHK-03")),
        # a server may limit lengths (facts): a 400/422 to a value beyond COMMON_LENGTH is honest
        (
            "positive_data_acceptance",
            observation("checkout", 400, {"fingerprint": "f" * 65}),
            Tolerate(
                "positive_data_acceptance: 400 for fingerprint of 65 characters: a server may limit "
                "lengths (facts), this spec asks only for 64"
            ),
        ),
        (
            "positive_data_acceptance",
            observation("checkin", 422, {"lease_token": "t"}, key="k" * 200),
            Tolerate(
                "positive_data_acceptance: 422 for an Idempotency-Key of 200 characters: a server may "
                "limit lengths (facts), this spec asks only for 64"
            ),
        ),
        ("positive_data_acceptance", observation("checkout", 400, {"fingerprint": "f" * 64}), Fail("LIFE-01")),
        ("positive_data_acceptance", observation("checkout", 409, {"fingerprint": "f" * 65}), Fail("LIFE-01")),
        (
            "positive_data_acceptance",
            observation("checkout", 401, VALID, auth="License lk_replaced"),
            Tolerate("positive_data_acceptance: the request as sent is not valid (schemathesis#2779)"),
        ),
        (
            "ignored_auth",
            observation("checkout", 200, VALID, probe=True),
            Tolerate("ignored_auth: the accepted request carried the valid key (schemathesis#2462)"),
        ),
        ("ignored_auth", observation("checkout", 200, VALID, auth=None, probe=True), Fail("AUTH-01")),
    ],
)
def test_rule(check, o, verdict):
    assert decide(check, run_of(o)) == verdict


def test_a_null_in_an_optional_field_read_as_absent_is_honest():
    """The facts: a JSON null in an optional request field is absent or a wrong type, both honest."""
    o = observation("checkout", 200, {"fingerprint": "a", "app_version": None}, mode="negative", data=lease("llt_A"))
    verdict = decide("negative_data_rejection", run_of(o))
    assert isinstance(verdict, Tolerate) and "null in an optional field" in verdict.reason
    assert verdict.note is not None and verdict.note[0] == "INPUT-03"


@pytest.mark.parametrize(
    "label,body",
    [
        ("heartbeat", {"lease_token": None}),  # a required field: null is no token
        ("checkout", {"fingerprint": "a", "is_vm": "yes"}),  # a wrong non-null type
        ("checkout", {"fingerprint": "a", "app_version": None, "is_vm": 1}),  # beside a null
        ("heartbeat", {}),  # missing required field
    ],
)
def test_accepting_a_wrong_type_or_a_missing_field_still_fails_input_03(label, body):
    o = observation(label, 200, body, mode="negative", data=lease("llt_A"))
    verdict = decide("negative_data_rejection", run_of(o))
    assert isinstance(verdict, Fail) and verdict.requirement == "INPUT-03"


def test_a_refusal_owed_to_no_catalogue_rule_is_an_informative_note():
    run = run_of(observation("checkout", 200, {"fingerprint": "a" * 300}, mode="negative"))
    verdict = decide("negative_data_rejection", run)
    assert isinstance(verdict, Tolerate) and verdict.note is not None
    rid, note = verdict.note
    assert rid == "INPUT-03" and note.startswith("informative: ") and "maxLength" in note


@pytest.fixture(scope="module")
def honest_server() -> Iterator[ReferenceServer]:
    with ReferenceServer(minute_seconds=1.0) as srv:
        yield srv


def test_a_replayed_key_accepted_without_credentials_is_auth_03(honest_server):
    """The same request with a fresh key and no credentials gets 401 from the target:
    only the replay got through, so the idempotency cache answered before authentication."""
    run = run_of(
        observation("checkout", 200, VALID, key="k-replayed", data=lease("llt_A")),
        observation("checkout", 200, VALID, key="k-replayed", auth=None, data=lease("llt_A"), probe=True),
    )
    verdict = decide("ignored_auth", run, base_url=honest_server.base_url)
    assert isinstance(verdict, Fail) and verdict.requirement == "AUTH-03"
    earlier, replay, fresh = verdict.evidence
    assert earlier is run.observations[0].exchange and replay is run.observations[1].exchange
    assert fresh.status == 401 and fresh.request_header("authorization") is None
    assert fresh.idempotency_key not in (None, "k-replayed") and fresh.operation == "checkout"


def test_triage_records_findings_tolerations_and_what_it_cannot_place():
    run = run_of(
        observation("checkout", 500, VALID),
        observation("checkout", 503, VALID),
    )
    first, second = (o.case_id for o in run.observations)
    triage(
        Context(run, functools.partial(Http, UNREACHABLE, timeout=5.0)),
        [
            Reported("not_a_server_error", "Server error", "500 on checkout", first),
            Reported("status_code_conformance", "Undocumented status", "503", second),
            Reported("not_a_server_error", "Server error", "lost", "no-such-case"),
            Reported("made_up_check", "Odd", "?", first),
        ],
    )
    (finding,) = run.findings
    assert finding.requirement == "INPUT-04"
    assert finding.kind == "not_a_server_error: Server error (checkoutFloatingLicense)"
    assert finding.message.startswith("[Server error] POST /api/v1/license/floating/checkout -> 500 X (fuzzing")
    assert finding.message.endswith(": 500 on checkout") and finding.evidence == [run.observations[0].exchange]
    assert sum(run.tolerated.values()) == 1
    assert run.raw_failures == {"not_a_server_error": 2, "status_code_conformance": 1, "made_up_check": 1}
    assert len(run.errors) == 2


def test_requests_never_answered_are_input_04():
    run = run_of(observation("checkout", None, VALID), observation("checkout", 200, VALID))
    unanswered(run)
    assert requirements(run) == {"INPUT-04"} and run.findings[0].evidence == [run.observations[0].exchange]
    quiet = run_of(observation("checkout", 200, VALID))
    quiet.network_errors.append("POST checkout: Network error: connection reset")
    unanswered(quiet)
    assert [(f.requirement, f.evidence) for f in quiet.findings] == [("INPUT-04", [])]
