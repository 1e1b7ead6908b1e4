"""recorded: schemathesis's recorders become Observations (core Exchanges) and Reported failures.

Built from schemathesis's own types, as its engine fills them, without a server.
"""

from __future__ import annotations

import json

import requests
from schemathesis.core.failures import Failure
from schemathesis.core.transport import Response
from schemathesis.engine.recorder import ScenarioRecorder

from leasecheck.conformance.generated.config import load_schema, operation_ids, schemathesis_config
from leasecheck.conformance.generated.recorded import NO_ANSWER, collect
from leasecheck.conformance.generated.triage import Reported
from leasecheck.core.client import CHECKOUT

from .conftest import AUTH, KEY

BASE = "http://127.0.0.1:9"
BODY = {"fingerprint": "a"}


def schema():
    return load_schema(schemathesis_config(base_url=BASE, license_key=KEY, request_timeout=5.0, seed=1, max_examples=1))


def prepared(key: str) -> requests.PreparedRequest:
    headers = {"authorization": AUTH, "idempotency-key": key, "content-type": "application/json"}
    return requests.Request("POST", BASE + CHECKOUT, headers=headers, data=json.dumps(BODY).encode()).prepare()


def test_cases_become_exchanges_in_the_order_answered_and_failures_keep_their_first_line():
    s = schema()
    op = s["/api/v1/license/floating/checkout"]["POST"]
    answered, silent = (op.Case(body=BODY, media_type="application/json") for _ in range(2))
    rec = ScenarioRecorder(label="checkout")
    rec.record_case(case=answered)
    rec.record_case(case=silent)
    rec.record_request(case_id=silent.id, request=prepared("k-silent"))  # sent, never answered
    answer = {"data": {"lease_token": "llt_A"}, "meta": {}}
    rec.record_response(
        case_id=answered.id,
        response=Response(
            200, {"Content-Type": ["application/json"]}, json.dumps(answer).encode(), prepared("k-1"), 0.25, True
        ),
    )
    failure = Failure(operation=op.label, title="Server error", message="first line\nsecond line")
    rec.record_check_failure(name="not_a_server_error", case_id=answered.id, code_sample="", failure=failure)

    observations, reported = collect([("fuzzing", rec)], operation_ids(s))

    assert [o.case_id for o in observations] == [silent.id, answered.id] and [o.seq for o in observations] == [0, 1]
    o = observations[1]
    assert o.operation == "checkoutFloatingLicense" and o.phase == "fuzzing" and o.mode == "positive"
    ex = o.exchange
    assert ex.operation == "checkout"  # the client's label: the lease tracker and the inspection key on it
    assert ex.request_headers["Authorization"] == AUTH and ex.idempotency_key == "k-1"
    assert ex.status == 200 and ex.lease_token == "llt_A" and ex.header("content-type") == "application/json"
    assert abs(ex.elapsed - 0.25) < 1e-6 and ex.path == CHECKOUT
    gone = observations[0].exchange
    assert gone.status is None and gone.error == NO_ANSWER
    assert reported == [Reported("not_a_server_error", "Server error", "first line", answered.id)]
