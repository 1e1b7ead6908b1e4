"""core/preflight.py against a real reference server: the right token is accepted,
a wrong one refused, and the check creates nothing."""

from __future__ import annotations

import re

import pytest

from leasecheck.core.client import Http
from leasecheck.core.inputs import BadInput
from leasecheck.core.preflight import TokenRefused, check_management_token, require_management_token
from leasecheck.core.server_process import ReferenceServer


@pytest.fixture(scope="module")
def srv():
    with ReferenceServer(minute_seconds=1.0) as s:
        yield s


def test_the_right_token_is_accepted_and_a_wrong_one_refused(srv):
    with Http(srv.base_url) as http:
        right = check_management_token(http, srv.management_token)
        wrong = check_management_token(http, srv.management_token + "x")
    assert right.accepted is True and "nothing created" in right.detail
    assert wrong.accepted is False and "401" in wrong.detail
    assert srv.management_token not in right.detail + wrong.detail


def test_require_raises_a_usage_error_naming_the_token(srv):
    with pytest.raises(TokenRefused, match="management token was refused") as caught:
        require_management_token(srv.base_url, "not-the-token", timeout=5.0)
    assert "not-the-token" not in str(caught.value)
    assert require_management_token(srv.base_url, srv.management_token, timeout=5.0).accepted is True


def _requests_seen(srv) -> int:
    with Http(srv.base_url) as http:
        text = http.request("GET", "/metrics").response_body.decode()
    return sum(int(float(n)) for n in re.findall(r'route="/api/v1/products",method="\w+",status="\d+"\} (\S+)', text))


@pytest.mark.parametrize("token,kind", [("tökén-token", "not ASCII"), ("abc\ndef-token", "a line break")])
def test_a_token_no_header_can_carry_is_bad_input_before_any_request(srv, token, kind):
    """It used to be a UnicodeEncodeError (exit 3) or an h11 refusal quoting the token."""
    before = _requests_seen(srv)
    with pytest.raises(BadInput, match=f"cannot go in an HTTP header: character [0-9]+ is {kind}") as caught:
        require_management_token(srv.base_url, token, timeout=5.0)
    assert token not in str(caught.value) and "tök" not in str(caught.value)
    assert _requests_seen(srv) == before
