"""Each honest variant really makes its different choice (the matrix proves
the suite passes them; these prove the server's Behaviour branches do what
the variant says, on the wire)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from leasecheck.core.client import Exchange, Http, LeaseClient, Management, hardware_binding, new_key
from leasecheck.core.server_process import ReferenceServer
from leasecheck.core.timeutil import parse_rfc3339
from leasecheck.gallery import process
from leasecheck.gallery.matrix import CASE_TIMEOUT_SECONDS, all_cases, run_case
from leasecheck.gallery.serving import case_settings
from leasecheck.reference_server.settings import Settings

pytestmark = pytest.mark.slow


def _client(srv: ReferenceServer, http: Http, seats: int = 1, timeout_minutes: int = 1) -> LeaseClient:
    key = Management(http, srv.management_token).floating_license(seats, timeout_minutes, name="variant")[3]
    return LeaseClient(http, key)


@pytest.fixture
def variant(request: pytest.FixtureRequest) -> Iterator[tuple[ReferenceServer, Http]]:
    with process.server(variant=request.param, minute_seconds=1.0) as srv:
        assert srv.base_url is not None
        assert "FAULT INJECTED" not in srv.log_text()
        with Http(srv.base_url) as http:
            yield srv, http


@pytest.mark.parametrize("variant", ["status-403"], indirect=True)
def test_status_403(variant):
    srv, http = variant
    c = _client(srv, http)
    assert c.checkout(hardware_binding()).status == 200
    over = c.checkout(hardware_binding())
    assert (over.status, over.error_code) == (403, "ACTIVATION_LIMIT_EXCEEDED")
    key = new_key()
    c2 = _client(srv, http, seats=2)
    assert c2.checkout(hardware_binding(), idempotency_key=key).status == 200
    clash = c2.checkout(hardware_binding(), idempotency_key=key)
    assert (clash.status, clash.error_code) == (409, "IDEMPOTENCY_CONFLICT")


@pytest.mark.parametrize("variant", ["new-seat-per-fingerprint"], indirect=True)
def test_new_seat_per_fingerprint(variant):
    srv, http = variant
    c = _client(srv, http, seats=2)
    body = hardware_binding()
    first, again = c.checkout(body), c.checkout(body)
    assert first.status == again.status == 200 and first.lease_token != again.lease_token
    assert c.checkout(hardware_binding()).status == 409  # the second lease counts against the limit


@pytest.mark.parametrize("variant", ["revive-when-free"], indirect=True)
def test_revive_when_free(variant):
    srv, http = variant
    c = _client(srv, http, seats=1, timeout_minutes=1)
    out = c.checkout(hardware_binding())
    time.sleep(max(0.0, parse_rfc3339(out.data["lease_expires_at"]) - time.time()) + 0.3)
    revived = c.heartbeat(out.lease_token)
    assert revived.status == 200
    assert c.checkout(hardware_binding()).status == 409  # the revived lease holds the only seat


@pytest.mark.parametrize("variant", ["offset-timestamps"], indirect=True)
def test_offset_timestamps(variant):
    srv, http = variant
    c = _client(srv, http)
    out = c.checkout(hardware_binding())
    whole = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
    for value in (out.json["meta"]["timestamp"], out.data["issued_at"], out.data["lease_expires_at"]):
        assert whole.match(value), value


@pytest.mark.parametrize("variant", ["codes-alt"], indirect=True)
def test_codes_alt(variant):
    srv, http = variant
    c = _client(srv, http, seats=1)
    assert c.checkout(hardware_binding()).status == 200
    over = c.checkout(hardware_binding())
    assert (over.status, over.error_code) == (409, "FLOATING_POOL_FULL")


@pytest.mark.parametrize("variant", ["default", "null-as-absent"], indirect=True)
def test_a_null_in_an_optional_field_is_refused_or_absent(variant):
    srv, http = variant
    c = _client(srv, http, seats=2)
    ex = c.checkout(hardware_binding(app_version=None))
    if "--variant null-as-absent" in " ".join(srv.extra_args):
        assert ex.status == 200 and ex.lease_token
        assert c.heartbeat(None, body={"lease_token": None}).status == 422  # required: null is missing
        assert c.checkout(hardware_binding(colour=None)).status == 400  # an unknown field stays unknown
    else:
        assert (ex.status, ex.error_code) == (400, "VALIDATION_ERROR")


@pytest.mark.parametrize("variant", ["no-replayed-header", "replay-stored-bytes"], indirect=True)
def test_replays_without_the_header(variant):
    srv, http = variant
    c = _client(srv, http, seats=2)
    body, key = hardware_binding(), new_key()
    first, again = c.checkout(body, idempotency_key=key), c.checkout(body, idempotency_key=key)
    assert first.lease_token == again.lease_token and again.header("idempotent-replayed") is None
    stored = "--variant replay-stored-bytes" in " ".join(srv.extra_args)
    assert (again.response_body == first.response_body) is stored
    assert (again.json["meta"] == first.json["meta"]) is stored


def _leased(variant: tuple[ReferenceServer, Http], seats: int = 1) -> tuple[str, LeaseClient, Exchange]:
    """The variant's name, a client of a fresh license and one lease it checked out."""
    srv, http = variant
    c = _client(srv, http, seats=seats)
    return srv.extra_args[srv.extra_args.index("--variant") + 1], c, c.checkout(hardware_binding())


@pytest.mark.parametrize("variant", ["dead-lease-409", "dead-lease-422"], indirect=True)
def test_dead_lease_status(variant):
    name, c, out = _leased(variant)
    status = 409 if name == "dead-lease-409" else 422
    assert c.checkin(out.lease_token).status == 200
    for ex in (c.heartbeat(out.lease_token), c.checkin(out.lease_token), c.heartbeat("llt_never_issued")):
        assert (ex.status, ex.error_code) == (status, "LEASE_NOT_ACTIVE")


@pytest.mark.parametrize("variant", ["checkin-ended-no-op"], indirect=True)
def test_checkin_of_an_ended_lease_is_a_no_op(variant):
    _, c, out = _leased(variant)
    assert c.checkin(out.lease_token).status == 200
    assert c.checkin(out.lease_token).status == 200  # a new key: a no-op
    assert c.checkout(hardware_binding()).status == 200  # one seat, free once
    assert c.checkout(hardware_binding()).status == 409
    assert c.checkin("llt_never_issued").status == 404


@pytest.mark.parametrize("variant", ["checkin-keeps-expiry"], indirect=True)
def test_checkin_keeps_the_expiry(variant):
    _, c, out = _leased(variant)
    ci = c.checkin(out.lease_token)
    assert ci.data["lease_expires_at"] == out.data["lease_expires_at"]


@pytest.mark.parametrize("variant", ["extra-fields"], indirect=True)
def test_extra_fields(variant):
    _, _c, out = _leased(variant, seats=3)
    assert out.data["seats_max"] == 3 and out.data["lease"]["ended"] is False


@pytest.mark.parametrize("variant", ["short-lease-tokens", "long-lease-tokens"], indirect=True)
def test_token_lengths(variant):
    name, c, out = _leased(variant)
    length = 20 if name == "short-lease-tokens" else 600
    assert out.lease_token.startswith("llt_") and len(out.lease_token) == 4 + length
    assert c.heartbeat(out.lease_token).status == 200 and c.checkin(out.lease_token).status == 200


@pytest.mark.parametrize("variant", ["default-timeout-30"], indirect=True)
def test_default_timeout(variant):
    srv, http = variant
    mgmt = Management(http, srv.management_token)
    product = mgmt.create_product("variant", new_key())
    policy = mgmt.create_policy(product["id"], name="v", code="v", license_type="subscription", max_floating_users=1)
    assert policy["floating_timeout_minutes"] == 30


@pytest.mark.parametrize("variant", ["in-flight-409"], indirect=True)
def test_in_flight_duplicates_are_refused(variant):
    srv, http = variant
    c = _client(srv, http, seats=2)
    body, key = hardware_binding(), new_key()
    with ThreadPoolExecutor(16) as pool:
        outs = list(
            pool.map(
                lambda _: LeaseClient(Http(srv.base_url), c.license_key).checkout(body, idempotency_key=key), range(16)
            )
        )
    assert {o.status for o in outs} <= {200, 409} and len({o.lease_token for o in outs if o.ok}) == 1
    assert all(o.error_code == "IDEMPOTENCY_IN_PROGRESS" for o in outs if o.status == 409)
    assert c.checkout(body, idempotency_key=key).status == 200  # done: the stored answer


def test_keys_kept_briefly():
    """Retention is a setting, not a behaviour: the variant's settings reach the server's."""
    settings = case_settings(Settings(management_token="t"), None, "keys-kept-briefly")
    assert settings.idempotency_ttl_seconds == 120.0
    assert case_settings(Settings(management_token="t"), None, "default").idempotency_ttl_seconds == 24 * 3600.0


# ------------------------------------------------------------------ INPUT-03, whole suite
@pytest.mark.timeout(CASE_TIMEOUT_SECONDS + 60)
@pytest.mark.parametrize(
    "kind,name",
    [
        ("variant", "null-as-absent"),  # a null in an optional field reads as absent: 200
        ("variant", "default"),  # refuses it as a wrong type: 400 (test_a_null_in_an_optional_field_...)
        ("fault", "wrong-types-coerced"),  # reads null as absent too, but accepts wrong non-null types
    ],
)
def test_the_whole_suite_takes_a_null_both_ways_but_no_wrong_type(tmp_path, kind, name):
    """The facts: what a null in an optional request field means is open. Against the reference
    server reading it as absent and against the one refusing it the whole suite exits 0, with no
    warning the default does not earn; a server that also accepts wrong non-null types fails
    INPUT-03."""
    case = next(c for c in all_cases() if (c.kind, c.name) == (kind, name))
    o = run_case(case, tmp_path / name)
    assert o.error is None, (o.error, o.report_dir)
    if kind == "variant":
        assert (o.exit_code, o.failed, o.choice_warnings) == (0, [], []), o.report_dir
    else:
        assert o.exit_code == 1 and "INPUT-03" in o.failed, (o.exit_code, o.failed, o.report_dir)
