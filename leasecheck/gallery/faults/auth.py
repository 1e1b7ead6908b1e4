"""Authentication faults: answers and leases reached without the right credentials (AUTH-*)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from leasecheck.reference_server.app import Api
from leasecheck.reference_server.errors import ApiError
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import Lease, License, Tx

from . import bug


@bug("idempotency-before-auth", "AUTH-03", "IDEM-07")
class IdempotencyBeforeAuth(Api):
    """An idempotency cache in front of authentication, keyed by Idempotency-Key and body only: anyone replaying a key
    gets the stored lease.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.cache: dict[tuple[str, str, str], Any] = {}

    async def cached(
        self, endpoint: str, request: Request, handler: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        key = request.headers.get("idempotency-key")
        slot = (endpoint, key or "", hashlib.sha256(await request.body()).hexdigest())
        if key and slot in self.cache:  # BUG: answered from the cache before anyone is authenticated
            return self.envelopes.signed(self.cache[slot], replayed=True)
        response = await handler(request)
        if key and response.status_code == 200:
            self.cache[slot] = json.loads(bytes(response.body))["data"]
        return response

    async def checkout(self, request: Request) -> Response:
        return await self.cached("checkout", request, super().checkout)

    async def checkin(self, request: Request) -> Response:
        return await self.cached("checkin", request, super().checkin)


@bug("lease-token-cross-license", "AUTH-02")
class TokensAcrossLicenses(Runtime):
    """A lease is looked up by its token alone, so another license can heartbeat or check in someone else's lease."""

    def find_lease(self, tx: Tx, license_id: str, token: str) -> Lease | None:
        return tx.lease(token)  # BUG: whichever license's lease it is


@bug("unknown-key-403", "AUTH-01")
class UnknownKeyIs403(Api):
    """An unknown license key is answered 403 Forbidden instead of 401, so a client reads a wrong or mistyped key as a
    license that may not be used (a state to wait out) rather than a credential to fix.
    """

    async def authenticate(self, request: Request) -> License:
        try:
            return await super().authenticate(request)
        except ApiError as exc:
            if exc.status == 401 and request.headers.get("authorization", "").lower().startswith("license "):
                raise ApiError(403, "LICENSE_INVALID", "this license key may not be used") from None  # BUG: 401
            raise


@bug("management-token-scope-403", "AUTH-04")
class ManagementTokenPassesAuth(Api):
    """One auth middleware for both credentials: the management Bearer token passes it on runtime routes too, and the
    handler then refuses it as lacking a scope (403 TOKEN_SCOPE_DENIED), so a client sent the wrong credential is told
    it lacks a permission instead of being asked for its license key.
    """

    async def authenticate(self, request: Request) -> License:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credential.strip() == self.settings.management_token:
            # BUG: the management credential was accepted as a credential of this route
            raise ApiError(403, "TOKEN_SCOPE_DENIED", "the token lacks the runtime scope")
        return await super().authenticate(request)
