"""The body size limit, judged on the declared length before anything else.

A request that declares a body over the limit (`Content-Length`) is refused
here, 413 `PAYLOAD_TOO_LARGE` with `Connection: close`, before its route,
its credentials or its method are looked at: the answer does not depend on
what the request would have been, and the body is never read (kept open, the
connection would read and drop it). A chunked body, whose length is not
declared, is counted as the handler reads it (`Api.read_body`), the same
error as soon as it grows past the limit.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from .envelopes import Envelopes
from .errors import PAYLOAD_TOO_LARGE, ApiError


def too_large(limit: int) -> ApiError:
    """The one refusal of a body over `limit` bytes, declared or grown."""
    return ApiError(
        413, PAYLOAD_TOO_LARGE, f"request body is larger than {limit} bytes", headers={"Connection": "close"}
    )


def declared_length(scope: Scope) -> int | None:
    """The Content-Length the request declares (None: none, or not a number, which the
    HTTP parser has refused already)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimitGuard:
    """Refuses a declared body over the limit with an error envelope; passes everything else on."""

    def __init__(self, app: ASGIApp, envelopes: Envelopes, limit: int) -> None:
        self.app = app
        self.envelopes = envelopes
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = declared_length(scope)
            if declared is not None and declared > self.limit:
                await self.envelopes.error(too_large(self.limit))(scope, receive, send)
                return
        await self.app(scope, receive, send)
