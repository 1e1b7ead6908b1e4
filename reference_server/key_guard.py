"""The Idempotency-Key field as received, before the app reads it.

Starlette's `request.headers.get("idempotency-key")` returns the first of
several field lines and decodes bytes as latin-1, so a handler cannot see a
key sent twice, or bytes that are not UTF-8; and management handlers never
read the key at all, although the spec bounds it there too (1 to 255
characters, optional). This ASGI layer judges the raw field lines with
`idempotency.key_problem` on the operations whose spec declares the header:
checkout and checkin (required) and the management writes (optional).
Heartbeat and reads take no key, and any they are sent is ignored.

Order: a malformed key (sent twice, control characters, not UTF-8, too long,
empty on a management write) is refused here, before credentials are
checked, like any other malformed header field; a *missing* or empty key on
checkout/checkin is refused by the handler, after credentials
(`idempotency.require_key`, 400 IDEMPOTENCY_KEY_REQUIRED).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from leasecheck.core.client import CHECKIN, CHECKOUT

from .envelopes import Envelopes
from .idempotency import key_problem

REQUIRED_ON = frozenset({CHECKOUT, CHECKIN})
OPTIONAL_UNDER = ("/api/v1/products", "/api/v1/licenses")  # management writes (POST)


def key_required(method: str, path: str) -> bool | None:
    """True where the spec requires the header, False where it is optional, None where it takes none."""
    if method != "POST":
        return None
    if path in REQUIRED_ON:
        return True
    return False if path.startswith(OPTIONAL_UNDER) else None


class IdempotencyKeyGuard:
    """Refuses a malformed Idempotency-Key with an error envelope; passes everything else on."""

    def __init__(self, app: ASGIApp, envelopes: Envelopes) -> None:
        self.app = app
        self.envelopes = envelopes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            required = key_required(scope["method"], scope["path"])
            if required is not None:
                values = [value for name, value in scope["headers"] if name == b"idempotency-key"]
                problem = key_problem(values, optional=not required)
                if problem is not None:
                    await self.envelopes.error(problem)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
