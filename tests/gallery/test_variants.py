"""Each honest variant really makes its different choice (the matrix proves
the suite passes them; these prove the server's Behaviour branches do what
the variant says, on the wire)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from leasecheck.core.client import Http, LeaseClient, Management, hardware_binding, new_key
from leasecheck.core.server_process import ReferenceServer
from leasecheck.core.timeutil import parse_rfc3339
from leasecheck.gallery import process

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
    c = _client(srv, http, seats=2)
    key = new_key()
    assert c.checkout(hardware_binding(), idempotency_key=key).status == 200
    clash = c.checkout(hardware_binding(), idempotency_key=key)
    assert (clash.status, clash.error_code) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert c.checkout(hardware_binding()).status == 200
    over = c.checkout(hardware_binding())
    assert (over.status, over.error_code) == (409, "NO_FREE_SEAT")
