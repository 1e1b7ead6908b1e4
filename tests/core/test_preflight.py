"""core/preflight.py against a real reference server: the right token is accepted,
a wrong one refused, and the check creates nothing."""

from __future__ import annotations

import pytest

from leasecheck.core.client import Http
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
