"""HttpTransport: a third-party httpx client sending through the suite's Http."""

from __future__ import annotations

import httpx

from leasecheck.core.client import Http
from leasecheck.core.server_process import ReferenceServer
from leasecheck.core.transport import HttpTransport


def test_requests_go_through_http_and_its_observers():
    seen = []
    with ReferenceServer(minute_seconds=1.0) as srv, Http(srv.base_url, observers=[seen.append]) as http:
        transport = HttpTransport(http)
        with httpx.Client(transport=transport) as client:
            r = client.post(
                f"{srv.base_url}/api/v1/license/floating/checkout",
                json={"fingerprint": "x"},
                headers={"Authorization": "License lk_nope", "Idempotency-Key": "k1"},
            )
    assert r.status_code == 401 and r.json()["error"]["code"]
    assert [ex.operation for ex in seen] == ["checkout"] and transport.exchanges == seen
    assert seen[0].request_headers["Authorization"] == "License lk_nope"  # names keep their case
    assert seen[0].idempotency_key == "k1"


def test_no_answer_is_a_transport_error():
    with Http("http://127.0.0.1:9", timeout=2) as http, httpx.Client(transport=HttpTransport(http)) as client:
        try:
            client.get("http://127.0.0.1:9/health")
        except httpx.ConnectError as exc:
            assert "Connect" in str(exc)
        else:
            raise AssertionError("a refused connection must raise ConnectError")
