"""Prometheus text for /metrics: requests by route, method and status, live leases.

Request counters are per worker process (each worker counts what it served;
scrapes land on any worker). The live-lease gauge comes from the database and
is exact across workers.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: The methods of RFC 9110 and PATCH; any other is counted as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, int]] = Counter()

    def observe(self, route: str, method: str, status: int) -> None:
        """Count one answer. Every label has a bounded set of values, or each request that
        made one up (any token is a method to HTTP) would add a counter for good: the
        route is a template or "unmatched", the status an HTTP status."""
        if method not in METHODS:
            method = "other"
        with self._lock:
            self._requests[(route, method, status)] += 1

    def render(self, live_leases: int) -> str:
        lines = [
            "# HELP leasecheck_requests_total Requests answered by this worker process, by route template, method and status.",
            "# TYPE leasecheck_requests_total counter",
        ]
        with self._lock:
            items = sorted(self._requests.items())
        for (route, method, status), count in items:
            lines.append(
                f'leasecheck_requests_total{{route="{_label(route)}",method="{_label(method)}",'
                f'status="{status}"}} {count}'
            )
        lines += [
            "# HELP leasecheck_leases_active Floating leases currently holding a seat, all licenses.",
            "# TYPE leasecheck_leases_active gauge",
            f"leasecheck_leases_active {live_leases}",
        ]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Counts every answer, including 500s sent by Starlette's outermost handler."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen: dict[str, Any] = {}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(template, scope["method"], int(seen.get("status", 500)))
