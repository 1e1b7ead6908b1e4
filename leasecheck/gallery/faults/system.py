"""System faults: health, readiness and the public keys, as probes and clients read them (SYS-*)."""

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


@bug("health-says-healthy", "SYS-01")
class HealthSaysHealthy(Api):
    """/health answers data.status "healthy" (the Spring Boot and Kubernetes habit), not "ok", so a probe that reads
    the documented value marks a working server down.
    """

    async def health(self, request: Request) -> Response:
        return self.envelopes.plain({"status": "healthy"})  # BUG: the contract's value is "ok"


@bug("readyz-without-db", "SYS-02")
class ReadyWithoutAsking(Api):
    """/readyz answers ready without asking the store: a copy of /health, so traffic is routed to a server whose
    database is gone.
    """

    async def readyz(self, request: Request) -> Response:
        return self.envelopes.plain({"status": "ready"})  # BUG: no db state, the store never asked
