"""`leasecheck serve --throttle-every N`: a reference server that rate-limits.

Every Nth request a worker receives is answered 429 with `Retry-After: 1` and
an error envelope whose code is `RATE_LIMITED`, before any handler runs:
nothing was done, so the client may send the very same request again (same
Idempotency-Key). It exists so the suite's own tests can show that a run
against a throttling staging server honours Retry-After and still passes.
Off unless asked for; the count is per worker process.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .envelopes import Envelopes
from .errors import ApiError
from .settings import Settings

RATE_LIMITED = "RATE_LIMITED"
RETRY_AFTER_SECONDS = 1


class ThrottleMiddleware:
    """Answers every `every`-th HTTP request with 429 instead of passing it on."""

    def __init__(self, app: ASGIApp, every: int, envelopes: Envelopes) -> None:
        self.app = app
        self.every = every
        self.envelopes = envelopes
        self._count = 0  # one event loop per worker: no lock needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._count += 1
        if self._count % self.every:
            await self.app(scope, receive, send)
            return
        refusal = ApiError(
            429,
            RATE_LIMITED,
            f"too many requests; retry after {RETRY_AFTER_SECONDS} s",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        await self.envelopes.error(refusal)(scope, receive, send)


def throttle_middleware(settings: Settings, envelopes: Envelopes) -> list[Middleware]:
    """The middleware list entry for these settings (none when throttling is off)."""
    if not settings.throttle_every:
        return []
    return [Middleware(ThrottleMiddleware, every=settings.throttle_every, envelopes=envelopes)]
