"""`leasecheck serve --answer-delay-ms D`: a server that answers as if it were far away.

A staging server across the world adds a round trip to every answer; the
suite's own tests use this to show that a run against such a server costs
little more than at loopback (independent scenarios overlap their waits,
conformance/scenarios/conftest.py). Half the delay passes before the request
reaches the handlers, half before the answer's first byte leaves: the
server's timestamps then sit mid-way, as they do on a real link. It only
waits; what the server does and answers is unchanged. Off unless asked for.
"""

from __future__ import annotations

import asyncio

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .settings import Settings


class DelayMiddleware:
    """Holds each HTTP request `seconds / 2` on the way in and on the way out."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.half = seconds / 2

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await asyncio.sleep(self.half)

        async def send_later(message: Message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(self.half)
            await send(message)

        await self.app(scope, receive, send_later)


def delay_middleware(settings: Settings) -> list[Middleware]:
    """The middleware list entry for these settings (none without a delay)."""
    if not settings.answer_delay_ms:
        return []
    return [Middleware(DelayMiddleware, seconds=settings.answer_delay_ms / 1000)]
