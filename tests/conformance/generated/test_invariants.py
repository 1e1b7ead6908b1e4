"""invariants: the own checks over a whole run, in order (LIFE-01, CHK-03, LIFE-03, TIME-02, CHK-02, LIFE-05)."""

from __future__ import annotations

import pytest

from leasecheck.conformance.generated.invariants import check_run, checkout_answers, has_identity

from .conftest import lease, observation, requirements, run_of


@pytest.mark.parametrize(
    "body,identity",
    [
        ({"fingerprint": "fp"}, True),
        ({"fingerprint": " "}, False),
        ({}, False),
        ({"is_container": True, "fingerprint": "fp"}, False),
        ({"is_container": True, "pod_name": "p"}, True),
        ({"is_container": False, "pod_name": "p"}, False),
    ],
)
def test_binding_identity(body, identity):
    assert has_identity(body) is identity


def test_honest_sequence_has_no_findings():
    run = run_of(
        observation("checkout", 200, {"fingerprint": "a"}, data=lease("llt_A")),
        observation("heartbeat", 200, {"lease_token": "llt_A"}, data=lease(expires="2026-01-01T00:00:11.000Z")),
        observation("heartbeat", 404, {"lease_token": "llt_unknown"}),
        observation("checkin", 200, {"lease_token": "llt_A"}, data=lease(expires="2026-01-01T00:00:01.000Z")),
        observation("heartbeat", 404, {"lease_token": "llt_A"}),
        observation("checkin", 404, {"lease_token": "llt_A"}),
        observation("checkout", 422, {"os": "linux"}),
        observation("checkout", 409, {"fingerprint": "b"}),  # judged below with few seats, not here
    )
    check_run(run)
    assert requirements(run) == {"LIFE-01"}  # 409 with 1 of 200 seats granted
    assert run.exercised["LIFE-03"] == 1 and run.exercised["CHK-02"] == 1 and run.exercised["TIME-02"] == 1
    assert run.exercised["LIFE-05"] == 3  # the three valid 200 answers


def test_broken_sequences_are_found():
    run = run_of(
        observation("checkout", 200, {"fingerprint": "a"}, data=lease("llt_A")),
        observation("heartbeat", 200, {"lease_token": "llt_A"}, data=lease(expires="2026-01-01T00:00:05.000Z")),
        observation("heartbeat", 200, {"lease_token": "llt_never"}, data=lease()),
        observation("checkin", 200, {"lease_token": "llt_A"}, data=lease()),
        observation("heartbeat", 200, {"lease_token": "llt_A"}, data=lease(lid="lic_2")),
        observation("checkin", 400, {"lease_token": "llt_A"}),  # 422 is a dead lease's answer too
        observation("checkout", 422, {"fingerprint": "b"}),
    )
    check_run(run)
    by_kind = {f.kind: f.requirement for f in run.findings}
    assert by_kind == {
        "heartbeat: expiry moved earlier": "TIME-02",
        "heartbeatFloatingLicense: 200 for a token never issued": "CHK-03",
        "heartbeat: 200 after checkin": "LIFE-03",
        "license_id differs": "LIFE-05",
        "license_id is not the license's": "LIFE-05",
        "checkin: second checkin answer": "CHK-02",
        "checkout: 422 for a binding identity": "LIFE-01",
    }
    differs = next(f for f in run.findings if f.kind == "license_id differs")
    assert [ex.path for ex in differs.evidence] == [
        run.observations[0].exchange.path,
        run.observations[4].exchange.path,
    ]


def test_requests_that_are_not_valid_judge_nothing_but_still_issue_tokens():
    run = run_of(
        observation("checkout", 200, {"fingerprint": "a", "x": 1}, data=lease("llt_A")),  # INPUT-02, yet issued
        observation("heartbeat", 200, {"lease_token": "llt_A"}, data=lease(lid="lic_2"), auth=None),
        observation("heartbeat", 200, {"lease_token": "llt_A"}, data=lease()),
    )
    check_run(run)
    assert not run.findings and run.exercised["LIFE-05"] == 1


def test_capacity_refusals_are_not_judged_without_a_fresh_license():
    run = run_of(observation("checkout", 409, {"fingerprint": "b"}), provisioned=False)
    checkout_answers(run)
    assert not run.findings


def test_unanswered_checkouts_count_as_possibly_granted():
    run = run_of(
        observation("checkout", None, {"fingerprint": "a"}),
        observation("checkout", 200, {"fingerprint": "b"}, data=lease("llt_B")),
        observation("checkout", 409, {"fingerprint": "c"}),
        seats=2,
    )
    checkout_answers(run)
    assert not run.findings


@pytest.mark.parametrize("status", [403, 409, 422])
def test_a_holder_checking_out_again_may_be_refused(status):
    """CAP-06 accepts a refusal of a second checkout by an identity that holds a lease (the
    facts leave it open): not LIFE-01, while its lease may be held; judged again once the
    checkin of that lease had answered 200 before the refusal was sent."""
    container = {"is_container": True, "pod_name": "p"}
    run = run_of(
        observation("checkout", 200, {"fingerprint": "a"}, data=lease("llt_A"), at=(0.0, 1.0)),
        observation("checkout", status, {"fingerprint": "a"}, at=(2.0, 3.0)),
        observation("checkout", None, container, at=(2.0, 2.5)),
        observation("checkout", status, container, at=(2.6, 3.0)),
        observation("checkin", 200, {"lease_token": "llt_A"}, data=lease(), at=(4.0, 5.0)),
        observation("checkout", status, {"fingerprint": "a"}, at=(6.0, 7.0)),
        seats=5,
    )
    checkout_answers(run)
    assert [run.observations.index(o) for o in _refused(run)] == [5]


def test_a_value_beyond_the_common_length_may_be_refused_422():
    """A server may limit lengths (facts): 422 to a fingerprint or key longer than the spec's
    COMMON_LENGTH is no LIFE-01; the same 422 to a short one is."""
    run = run_of(
        observation("checkout", 422, {"fingerprint": "f" * 65}),
        observation("checkout", 422, {"fingerprint": "a"}, key="k" * 65),
        observation("checkout", 422, {"fingerprint": "f" * 64}),
    )
    checkout_answers(run)
    assert [run.observations.index(o) for o in _refused(run)] == [2]


def _refused(run):
    """The observations the run's findings name as their last evidence."""
    return [next(o for o in run.observations if o.exchange is f.evidence[-1]) for f in run.findings]


EXPIRES_20, EXPIRES_15 = "2026-01-01T00:00:20.000Z", "2026-01-01T00:00:15.000Z"


def lease_story(late_heartbeat: tuple[float, float], grant: tuple[float, float], refusal: tuple[float, float]):
    """Checkout A, a heartbeat of it, its checkin, a late heartbeat of A with an earlier expiry;
    a grant to C and a refusal on a 2-seat license: sent and answered at the times given, in
    the order the answers arrived (as `recorded.collect` orders them)."""
    observations = [
        observation("checkout", 200, {"fingerprint": "a"}, data=lease("llt_A"), at=(0.0, 1.0)),
        observation("heartbeat", 200, {"lease_token": "llt_A"}, data=lease(expires=EXPIRES_20), at=(2.0, 3.0)),
        observation("checkin", 200, {"lease_token": "llt_A"}, data=lease(), at=(4.0, 5.0)),
        observation("heartbeat", 200, {"lease_token": "llt_A"}, data=lease(expires=EXPIRES_15), at=late_heartbeat),
        observation("checkout", 200, {"fingerprint": "c"}, data=lease("llt_C"), at=grant),
        observation("checkout", 409, {"fingerprint": "b"}, at=refusal),
    ]
    return run_of(*sorted(observations, key=lambda o: o.exchange.received_at), seats=2)


def test_requests_that_overlapped_are_not_judged_by_each_other():
    # A far run's phases side by side: the late heartbeat sent while the checkin was
    # unanswered, answered after its 200; the refusal answered while the grant, sent before
    # it, was still on its way. An honest server may have applied either first.
    run = lease_story(late_heartbeat=(2.5, 6.0), grant=(6.0, 8.0), refusal=(6.5, 7.0))
    check_run(run)
    assert not run.findings
    assert run.exercised["LIFE-03"] == 0
    assert run.exercised["TIME-02"] == 2  # each heartbeat against the checkout's expiry only


def test_the_same_requests_one_after_another_are_judged():
    run = lease_story(late_heartbeat=(5.0, 6.0), grant=(7.5, 8.0), refusal=(6.5, 7.0))
    check_run(run)
    assert {f.kind: f.requirement for f in run.findings} == {
        "heartbeat: 200 after checkin": "LIFE-03",
        "heartbeat: expiry moved earlier": "TIME-02",  # 15 s after 20 s was given
        "checkout: refused with free seats": "LIFE-01",  # C was asked for only after: 1 of 2 seats held
    }
