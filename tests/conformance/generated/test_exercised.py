"""exercised: which requirements each request exercised (a requirement none exercised is not_run)."""

from __future__ import annotations

from dataclasses import replace

from leasecheck.conformance.generated.exercised import count_exercised
from leasecheck.conformance.generated.observation import WRONG_METHOD

from .conftest import lease, observation, run_of

VALID = {"fingerprint": "a"}


def test_valid_and_broken_requests_exercise_what_their_answer_could_break():
    run = run_of(
        observation("checkout", 200, VALID, data=lease("llt_A")),
        observation("checkout", 400, {"fingerprint": 1}, mode="negative"),
        observation("checkout", None, VALID),
    )
    count_exercised(run)
    assert run.exercised == {"INPUT-04": 3, "ENV-01": 2, "ENV-04": 2, "LIFE-01": 2, "INPUT-03": 1}


def test_a_wrong_method_probe_exercises_only_input_04_and_input_05():
    probe = replace(observation("checkout", 405, VALID), scenario=WRONG_METHOD)
    run = run_of(probe)
    count_exercised(run)
    assert run.exercised == {"INPUT-04": 1, "INPUT-05": 1}


def test_a_probe_replaying_an_accepted_key_without_credentials_exercises_auth_03():
    run = run_of(
        observation("checkout", 200, VALID, key="k-1", data=lease("llt_A")),
        observation("checkout", 401, VALID, key="k-1", auth=None, probe=True),
        observation("checkout", 401, VALID, key="k-2", auth=None, probe=True),  # no accepted request with k-2
    )
    count_exercised(run)
    assert run.exercised["AUTH-03"] == 1 and run.exercised["AUTH-01"] == 2
