"""System faults: the public keys out of a client's reach (SYS-*)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from leasecheck.reference_server.app import Api
from leasecheck.reference_server.errors import unauthorized

from . import bug


@bug("public-keys-behind-auth", "SYS-04", "SIG-02")
class PublicKeysBehindAuth(Api):
    """GET /api/v1/system/public-keys requires credentials, so a client cannot fetch the keys to verify its first
    answer.
    """

    async def public_keys(self, request: Request) -> Response:
        _scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if not credential.strip():  # BUG: the keys sit behind the API's auth middleware
            raise unauthorized("an Authorization header is required")
        return await super().public_keys(request)
