"""The HTTP face of the reference server: routes, authentication, envelopes.

Handlers check in the order specs/README.md implies (credentials, then
Idempotency-Key, then the body) and hand validated input to `Runtime` or
`Catalogue`, which run their SQLite work in a thread (offload.py). Every refusal is an
`ApiError` rendered as an error envelope; anything unexpected becomes a 500
envelope without a stack trace (the traceback goes to the server log).

A server is assembled from `Parts`: the correct classes by default. Each
input step (reading, decoding and checking a body, authenticating, taking the
Idempotency-Key) is a public method, so that the fault gallery can build a
server from a subclass that changes one of them; this module never learns
of it.
"""

from __future__ import annotations

import hmac
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from leasecheck.core.client import CHECKIN, CHECKOUT, HEARTBEAT, PUBLIC_KEYS

from . import clock
from .body_limit import BodyLimitGuard, too_large
from .delay import delay_middleware
from .envelopes import Envelopes, new_request_id
from .errors import (
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    ApiError,
    unauthorized,
)
from .idempotency import Answer, Idempotency, require_key
from .key_guard import IdempotencyKeyGuard
from .keys import KeyRingFile, load_or_create
from .leases import Runtime
from .management import TRANSITIONS, Catalogue
from .metrics import CONTENT_TYPE, Metrics, MetricsMiddleware
from .offload import Offload
from .settings import Settings
from .store import License, Store
from .throttle import throttle_middleware
from .validation import (
    CHECKOUT as CHECKOUT_BODY,
)
from .validation import (
    EMPTY,
    LEASE_TOKEN,
    LICENSE,
    POLICY,
    PRODUCT,
    Spec,
    check_object,
    parse_json,
)

log = logging.getLogger("leasecheck.reference_server")

Handler = Callable[[Request], Awaitable[Response]]


def credentials(request: Request, form: str) -> tuple[str, str]:
    """(scheme, credential) of the request's one Authorization field; 401 when it is sent more than once.

    `request.headers.get` takes the first of several field lines, so a second
    credential was ignored: which one a request means is ambiguous (proxies
    and servers differ), as with a repeated Idempotency-Key (key_guard.py).
    """
    values = request.headers.getlist("authorization")
    if len(values) > 1:
        raise unauthorized(f"the Authorization header was sent {len(values)} times; send it once ({form})")
    scheme, _, credential = (values[0] if values else "").partition(" ")
    return scheme, credential.strip()


class Api:
    """One worker's view of the server: store, keys, runtime and catalogue."""

    def __init__(self, settings: Settings, parts: Parts | None = None) -> None:
        parts = parts or Parts()
        self.settings = settings
        style = settings.behaviour.timestamp_style
        self.store = Store(settings.db_path)
        self.store.initialise()
        load_or_create(settings.signing_key_file)
        self.keys = KeyRingFile(settings.signing_key_file)
        self.envelopes = parts.envelopes(self.keys, style)
        self.runtime = parts.runtime(self.store, settings, parts.idempotency.from_settings(settings))
        self.catalogue = Catalogue(self.store, style, settings.behaviour.default_timeout_minutes)
        self.lease_token_body = LEASE_TOKEN  # what a heartbeat or checkin body may be
        self.metrics = Metrics()
        self.offload = Offload()  # the thread the store's blocking work runs in (offload.py)

    # ------------------------------------------------------------------ input
    async def read_body(self, request: Request) -> bytes:
        """The raw body, refused with 413 as soon as it grows past the size limit.

        A declared length over the limit never gets here (body_limit.py). The 413
        says `Connection: close` and the connection closes after it (connections.py):
        the rest of the body is never read, and kept open the connection would read
        and drop it until the body timeout.
        """
        limit = self.settings.max_body_bytes
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large(limit)
        return bytes(body)

    def decode_json(self, raw: bytes) -> Any:
        """The body as JSON; anything else is a 400 INVALID_JSON envelope, never a 500 (INPUT-01)."""
        return parse_json(raw)

    def check_fields(self, value: Any, spec: Spec) -> dict[str, Any]:
        """The route's fields, type-checked; an unknown field is refused, not ignored (INPUT-02)."""
        return check_object(value, spec, nulls_absent=self.settings.behaviour.null_fields == "absent")

    async def parse_body(self, request: Request, spec: Spec, *, empty_ok: bool = False) -> dict[str, Any]:
        """Read, decode and check a request body, in that order (specs/README.md)."""
        raw = await self.read_body(request)
        if empty_ok and not raw.strip():
            return {}
        return self.check_fields(self.decode_json(raw), spec)

    async def authenticate(self, request: Request) -> License:
        """The license of `Authorization: License <key>`; anything else is a 401 (AUTH-01)."""
        scheme, credential = credentials(request, "Authorization: License <license-key>")
        if scheme.lower() != "license" or not credential:
            raise unauthorized("an Authorization: License <license-key> header is required")
        known = self.runtime.known_license(credential)  # no thread hop for a key seen before
        if known is not None:
            return known
        return await self.offload(self.runtime.authenticate, credential)

    def idempotency_key(self, request: Request) -> str:
        """The Idempotency-Key checkout and checkin require; missing or too long is a 400 (IDEM-01, IDEM-02)."""
        return require_key(request.headers.get("idempotency-key"))

    def _management(self, request: Request) -> None:
        scheme, credential = credentials(request, "Authorization: Bearer <management-token>")
        expected = self.settings.management_token.encode("utf-8")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credential.encode("utf-8"), expected):
            raise unauthorized("an Authorization: Bearer <management-token> header with the server's token is required")

    # ------------------------------------------------------------------ runtime
    async def checkout(self, request: Request) -> Response:
        lic = await self.authenticate(request)
        key = self.idempotency_key(request)
        body = await self.parse_body(request, CHECKOUT_BODY)
        answer = await self.offload(self.runtime.checkout, lic.id, key, body)
        return self.keyed_answer(answer)

    async def heartbeat(self, request: Request) -> Response:
        lic = await self.authenticate(request)
        body = await self.parse_body(request, self.lease_token_body)
        answer = await self.offload(self.runtime.heartbeat, lic.id, body["lease_token"])
        return self.envelopes.signed(answer.data)

    async def checkin(self, request: Request) -> Response:
        lic = await self.authenticate(request)
        key = self.idempotency_key(request)
        body = await self.parse_body(request, self.lease_token_body)
        answer = await self.offload(self.runtime.checkin, lic.id, key, body)
        return self.keyed_answer(answer)

    def keyed_answer(self, answer: Answer) -> Response:
        """The signed answer of a keyed write. A replay carries Idempotent-Replayed unless the
        behaviour leaves it out (the contract has no such header), and is re-signed with a
        fresh meta unless the behaviour sends the stored bytes (facts: both are open)."""
        behaviour = self.settings.behaviour
        replayed = answer.replayed and behaviour.replayed_header
        if behaviour.replay_meta == "stored" and answer.origin is not None:
            meta = self.envelopes.meta(answer.origin.request_id, answer.origin.at)
            return self.envelopes.signed_as(answer.data, meta, replayed=replayed)
        return self.envelopes.signed(answer.data, replayed=replayed)

    # ------------------------------------------------------------------ management
    async def create_product(self, request: Request) -> Response:
        self._management(request)
        body = await self.parse_body(request, PRODUCT)
        return self.envelopes.plain(await self.offload(self.catalogue.create_product, body), 201)

    async def create_policy(self, request: Request) -> Response:
        self._management(request)
        body = await self.parse_body(request, POLICY)
        product_id = request.path_params["product_id"]
        return self.envelopes.plain(await self.offload(self.catalogue.create_policy, product_id, body), 201)

    async def create_license(self, request: Request) -> Response:
        self._management(request)
        body = await self.parse_body(request, LICENSE)
        return self.envelopes.plain(await self.offload(self.catalogue.create_license, body), 201)

    def status_change(self, action: str) -> Handler:
        async def handler(request: Request) -> Response:
            self._management(request)
            await self.parse_body(request, EMPTY, empty_ok=True)
            license_id = request.path_params["license_id"]
            return self.envelopes.plain(await self.offload(self.catalogue.change_status, license_id, action))

        return handler

    # ------------------------------------------------------------------ system
    async def public_keys(self, request: Request) -> Response:
        style = self.settings.behaviour.timestamp_style
        return self.envelopes.plain([e.published(style) for e in self.keys.entries()])

    async def health(self, request: Request) -> Response:
        return self.envelopes.plain({"status": "ok"})

    def _ping(self) -> None:
        with self.store.read() as tx:
            tx.ping()

    async def readyz(self, request: Request) -> Response:
        try:
            await self.offload(self._ping)
        except sqlite3.Error as exc:
            return self.envelopes.plain({"status": "not_ready", "db": str(exc) or exc.__class__.__name__}, 503)
        return self.envelopes.plain({"status": "ready", "db": "ok"})

    def _live_leases(self) -> int:
        with self.store.read() as tx:
            return tx.count_all_live_leases(clock.now())

    async def metrics_text(self, request: Request) -> Response:
        text = self.metrics.render(await self.offload(self._live_leases))
        return Response(text, media_type=CONTENT_TYPE)

    # ------------------------------------------------------------------ failures
    async def on_api_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return self.envelopes.error(exc)

    async def on_http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            err = ApiError(404, NOT_FOUND, "no such route")
        elif exc.status_code == 405:
            err = ApiError(405, METHOD_NOT_ALLOWED, f"{request.method} is not allowed here", headers=exc.headers or {})
        else:
            err = ApiError(exc.status_code, "HTTP_ERROR", str(exc.detail), headers=exc.headers or {})
        return self.envelopes.error(err)

    async def on_store_error(self, request: Request, exc: Exception) -> Response:
        log.error("store unavailable: %s", exc)
        return self.envelopes.error(
            ApiError(503, "SERVICE_UNAVAILABLE", "the lease store is busy or unavailable", headers={"Retry-After": "1"})
        )

    async def on_disconnect(self, request: Request, exc: Exception) -> Response:
        return Response(status_code=400)  # nobody is left to read it

    async def on_crash(self, request: Request, exc: Exception) -> Response:
        # Starlette re-raises after sending this, so the traceback follows in the server log.
        request_id = new_request_id()
        log.error("internal error answering %s %s (request_id %s)", request.method, request.url.path, request_id)
        return self.envelopes.error(ApiError(500, INTERNAL_ERROR, "internal error; see the server log"), request_id)

    # ------------------------------------------------------------------ wiring
    def routes(self) -> list[Route]:
        post, get = ["POST"], ["GET"]
        routes = [
            Route(CHECKOUT, self.checkout, methods=post),
            Route(HEARTBEAT, self.heartbeat, methods=post),
            Route(CHECKIN, self.checkin, methods=post),
            Route(PUBLIC_KEYS, self.public_keys, methods=get),
            Route("/health", self.health, methods=get),
            Route("/healthz", self.health, methods=get),
            Route("/readyz", self.readyz, methods=get),
            Route("/metrics", self.metrics_text, methods=get),
            Route("/api/v1/products", self.create_product, methods=post),
            Route("/api/v1/products/{product_id}/policies", self.create_policy, methods=post),
            Route("/api/v1/licenses", self.create_license, methods=post),
        ]
        routes += [
            Route(f"/api/v1/licenses/{{license_id}}/{action}", self.status_change(action), methods=post)
            for action in TRANSITIONS
        ]
        return routes


@dataclass(frozen=True)
class Parts:
    """The classes one server is assembled from: the correct ones by default.

    The fault gallery builds a deliberately broken server by handing one
    subclass here (a `Runtime` whose seat check is off by one, an `Api` that
    makes up a missing Idempotency-Key, ...); everything else stays correct.
    """

    api: type[Api] = Api
    runtime: type[Runtime] = Runtime
    idempotency: type[Idempotency] = Idempotency
    envelopes: type[Envelopes] = Envelopes


def create_app(settings: Settings | None = None, parts: Parts | None = None) -> Starlette:
    """The ASGI app; uvicorn workers call this with settings from the environment."""
    settings = (settings or Settings.from_env()).validate()
    parts = parts or Parts()
    api = parts.api(settings, parts)
    app = Starlette(
        routes=api.routes(),
        middleware=[
            *delay_middleware(settings),
            Middleware(MetricsMiddleware, metrics=api.metrics),
            *throttle_middleware(settings, api.envelopes),
            # A declared body over the limit, before route, method or credentials (body_limit.py).
            Middleware(BodyLimitGuard, envelopes=api.envelopes, limit=settings.max_body_bytes),
            # The Idempotency-Key field lines as sent, which handlers cannot see (key_guard.py).
            Middleware(IdempotencyKeyGuard, envelopes=api.envelopes),
        ],
        exception_handlers={
            ApiError: api.on_api_error,
            HTTPException: api.on_http_exception,
            sqlite3.OperationalError: api.on_store_error,
            ClientDisconnect: api.on_disconnect,
            Exception: api.on_crash,
        },
    )
    app.router.redirect_slashes = False
    app.state.api = api
    return app
