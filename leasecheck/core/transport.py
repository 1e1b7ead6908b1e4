"""An httpx transport that sends through `Http`, for clients we did not write.

The official Python SDK (`licensekit-sdk`) builds its own requests on an
`httpx.Client`. Giving it `HttpTransport(http)` sends each of them through the
suite's `Http`, so the SDK's traffic is paced, backed off on 429, timed,
redacted and seen by the same observers as the suite's own (signature and
schema checks, coverage, lease tracking for cleanup) — and the SDK still sees
the server's answer byte for byte.
"""

from __future__ import annotations

import httpx

from .client import CHECKIN, CHECKOUT, HEARTBEAT, Exchange, Http

_OPERATIONS = {CHECKOUT: "checkout", HEARTBEAT: "heartbeat", CHECKIN: "checkin"}


class HttpTransport(httpx.BaseTransport):
    """Route an httpx client's requests through one `Http` (same base URL)."""

    def __init__(self, http: Http) -> None:
        self.http = http
        self._prefix = httpx.URL(http.base_url).raw_path.decode("ascii").rstrip("/")
        #: Every exchange this transport carried, in order (evidence for the caller).
        self.exchanges: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode("ascii")
        if self._prefix and path.startswith(self._prefix + "/"):
            path = path[len(self._prefix) :]  # Http adds its base URL's path itself
        # Header names as the client wrote them (httpx lower-cases them in .items()).
        headers = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in request.headers.raw
            if k.lower() not in (b"host", b"content-length")
        }
        ex = self.http.request(
            request.method,
            path,
            content=request.read() or None,
            headers=headers,
            operation=_OPERATIONS.get(request.url.path),
        )
        self.exchanges.append(ex)
        if ex.status is None:
            raise httpx.ConnectError(ex.error or "no answer", request=request)
        return httpx.Response(ex.status, headers=ex.response_headers, content=ex.response_body, request=request)
