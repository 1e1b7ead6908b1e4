"""One HTTP client for everything that talks to a lease server.

Conformance scenarios, load profiles and the reference server's own tests all
go through `Http`, so that every exchange is timed, recorded for evidence,
redacted once, and seen by the same observers (schema validation, signature
checks, the operation history).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .interrupts import held
from .pacing import Backoff
from .redact import redact_headers, redact_text
from .timeutil import parse_rfc3339

RUNTIME = "/api/v1/license/floating"
CHECKOUT = f"{RUNTIME}/checkout"
HEARTBEAT = f"{RUNTIME}/heartbeat"
CHECKIN = f"{RUNTIME}/checkin"
PUBLIC_KEYS = "/api/v1/system/public-keys"

#: Sentinel: generate a fresh Idempotency-Key for this call.
AUTO = "__auto__"
#: Sentinel: send no Idempotency-Key header at all.
OMIT = None


_tls_lock = threading.Lock()
_tls: ssl.SSLContext | None = None


def tls_context() -> ssl.SSLContext:
    """One TLS context for every client of the process.

    Building one loads the CA bundle (about 20 ms of CPU); concurrency scenarios
    open a client per racing connection, so a context each was a fifth of a
    whole conformance run's CPU."""
    global _tls
    with _tls_lock:
        if _tls is None:
            _tls = httpx.create_ssl_context()
        return _tls


def new_key() -> str:
    return f"lc-{uuid.uuid4()}"


@dataclass
class Exchange:
    """One request and its answer (or transport failure), with wall-clock times."""

    method: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes | None
    sent_at: float
    received_at: float
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    error: str | None = None  # transport failure, e.g. timeout or refused
    operation: str | None = None  # "checkout", "heartbeat", ... where known
    idempotency_key: str | None = None
    throttled: int = 0  # 429 answers waited out before this one (see Backoff)

    @classmethod
    def outgoing(
        cls, method: str, path: str, headers: dict[str, str], body: bytes | None, operation: str | None
    ) -> Exchange:
        """A request about to go out, sent now and not yet answered: the one way the
        conformance client and the load users begin recording an exchange."""
        sent = time.time()
        return cls(
            method=method,
            path=path,
            request_headers=headers,
            request_body=body,
            sent_at=sent,
            received_at=sent,
            operation=operation,
            idempotency_key=headers.get("Idempotency-Key"),
        )

    @property
    def elapsed(self) -> float:
        return self.received_at - self.sent_at

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def json(self) -> Any:
        """The parsed body, or None when it is not JSON."""
        if not hasattr(self, "_json"):
            try:
                self._json = json.loads(self.response_body) if self.response_body else None
            except ValueError:
                self._json = None
        return self._json

    @property
    def data(self) -> Any:
        body = self.json
        return body.get("data") if isinstance(body, dict) else None

    @property
    def stamp(self) -> float | None:
        """`meta.timestamp` (server clock, epoch) or None; parsed once: clock bounds and Op both read it."""
        if not hasattr(self, "_stamp"):
            meta = self.json.get("meta") if isinstance(self.json, dict) else None
            raw = meta.get("timestamp") if isinstance(meta, dict) else None
            try:
                self._stamp = parse_rfc3339(raw) if isinstance(raw, str) else None
            except ValueError:
                self._stamp = None
        return self._stamp

    @property
    def error_code(self) -> str | None:
        body = self.json
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = body["error"].get("code")
            return code if isinstance(code, str) else None
        return None

    @property
    def lease_token(self) -> str | None:
        data = self.data
        tok = data.get("lease_token") if isinstance(data, dict) else None
        return tok if isinstance(tok, str) else None

    def header(self, name: str) -> str | None:
        return self.response_headers.get(name.lower())

    def request_header(self, name: str) -> str | None:
        """A header as sent, whatever case the sender wrote its name in (response
        headers are stored lower-case; request headers as they went out)."""
        lower = name.lower()
        return next((v for k, v in self.request_headers.items() if k.lower() == lower), None)

    def describe(self) -> str:
        """One line for messages: 'POST /checkout -> 409 FLOATING_LIMIT_EXCEEDED'."""
        tail = self.error or (f"{self.status} {self.error_code or ''}".strip())
        return f"{self.method} {self.path} -> {tail}"

    def evidence(self, limit: int = 4000) -> dict[str, Any]:
        """A redacted, JSON-ready record of the exchange for reports."""

        def text(b: bytes | None) -> str | None:
            if b is None:
                return None
            s = b[:limit].decode("utf-8", "replace")
            return redact_text(s)

        return {
            "request": {
                "method": self.method,
                "path": self.path,
                "headers": redact_headers(self.request_headers),
                "body": text(self.request_body),
            },
            "response": None
            if self.status is None
            else {
                "status": self.status,
                "headers": redact_headers(self.response_headers),
                "body": text(self.response_body),
            },
            "transport_error": self.error,
            "sent_at": self.sent_at,
            "received_at": self.received_at,
        }


Observer = Callable[[Exchange], None]


class Http:
    """A thin, recording wrapper over one httpx.Client for one base URL.

    Observers are called with every exchange, including transport failures;
    they must not raise. With a `backoff`, a 429 answer is waited out and the
    request sent again (same headers, so the same Idempotency-Key): observers
    see only the final exchange, `throttle_listeners` see each 429 waited out.
    `before_request` runs before every attempt (the rate cap lives there).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        observers: list[Observer] | None = None,
        client: httpx.Client | None = None,
        before_request: Callable[[], object] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.observers: list[Observer] = list(observers or [])
        self.throttle_listeners: list[Observer] = []
        self._client = client or httpx.Client(base_url=self.base_url, timeout=timeout, verify=tls_context())
        self._owns_client = client is None
        self._before_request = before_request
        self.backoff = backoff
        self._inflight = 0
        self._inflight_lock = threading.Lock()

    @property
    def inflight(self) -> int:
        """Requests sent through this client and not yet answered (or given up)."""
        return self._inflight

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        operation: str | None = None,
        timeout: float | None = None,
    ) -> Exchange:
        hdrs = {k: v for k, v in (headers or {}).items() if v is not None}
        body: bytes | None = content
        if json_body is not None and content is None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        with self._inflight_lock:
            self._inflight += 1
        try:
            attempt = 0
            while True:
                # An interrupt waits for the answer and its observers (a granted lease is
                # then tracked, so the run can check it in); never for a back-off sleep.
                with held():
                    ex = self._send(method, path, hdrs, body, operation, timeout)
                    ex.throttled = attempt
                    wait = (
                        self.backoff.delay(ex.header("retry-after"), attempt)
                        if self.backoff is not None and ex.status == 429
                        else None
                    )
                    if wait is None:
                        for obs in self.observers:  # before the count drops: idle means fully observed
                            obs(ex)
                        break
                    for listener in self.throttle_listeners:
                        listener(ex)
                assert self.backoff is not None  # only a backoff computes a wait
                self.backoff.sleep(wait)
                attempt += 1
        finally:
            with self._inflight_lock:
                self._inflight -= 1
        return ex

    def _send(
        self,
        method: str,
        path: str,
        hdrs: dict[str, str],
        body: bytes | None,
        operation: str | None,
        timeout: float | None,
    ) -> Exchange:
        """One attempt on the wire."""
        if self._before_request is not None:
            self._before_request()
        ex = Exchange.outgoing(method, path, hdrs, body, operation)
        try:
            kwargs: dict[str, Any] = {"headers": hdrs, "content": body}
            if timeout is not None:
                kwargs["timeout"] = timeout
            resp = self._client.request(method, path, **kwargs)
            ex.received_at = time.time()
            ex.status = resp.status_code
            ex.response_headers = {k.lower(): v for k, v in resp.headers.items()}
            ex.response_body = resp.content
        except httpx.HTTPError as exc:
            ex.received_at = time.time()
            ex.error = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
        return ex


def license_auth(license_key: str | None) -> dict[str, str]:
    return {} if license_key is None else {"Authorization": f"License {license_key}"}


class LeaseClient:
    """The runtime surface for one license key."""

    def __init__(self, http: Http, license_key: str | None) -> None:
        self.http = http
        self.license_key = license_key

    def _headers(self, key: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
        h = license_auth(self.license_key)
        if key is not None:
            h["Idempotency-Key"] = new_key() if key == AUTO else key
        h.update(extra or {})
        return h

    def checkout(
        self,
        body: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = AUTO,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeout: float | None = None,
    ) -> Exchange:
        """POST checkout; `body` defaults to a hardware binding with a fresh fingerprint."""
        if body is None and content is None:
            body = hardware_binding()
        return self.http.request(
            "POST",
            CHECKOUT,
            json_body=body,
            content=content,
            headers=self._headers(idempotency_key, headers),
            operation="checkout",
            timeout=timeout,
        )

    def heartbeat(
        self,
        lease_token: str | None,
        *,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Exchange:
        return self._lease_call(HEARTBEAT, "heartbeat", lease_token, None, headers, body, timeout)

    def checkin(
        self,
        lease_token: str | None,
        *,
        idempotency_key: str | None = AUTO,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Exchange:
        return self._lease_call(CHECKIN, "checkin", lease_token, idempotency_key, headers, body, timeout)

    def _lease_call(
        self,
        path: str,
        operation: str,
        lease_token: str | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        timeout: float | None,
    ) -> Exchange:
        """Heartbeat and checkin share a body (`{"lease_token": ...}` unless one is given)."""
        payload = body if body is not None else {"lease_token": lease_token}
        return self.http.request(
            "POST",
            path,
            json_body=payload,
            headers=self._headers(idempotency_key, headers),
            operation=operation,
            timeout=timeout,
        )


def hardware_binding(fingerprint: str | None = None, **extra: Any) -> dict[str, Any]:
    """A valid hardware checkout body with a unique fingerprint."""
    body: dict[str, Any] = {
        "fingerprint": fingerprint or f"fp-{uuid.uuid4().hex}",
        "hostname": "leasecheck-host",
        "os": "linux",
        "is_vm": False,
        "is_container": False,
        "app_version": "1.0.0",
    }
    body.update(extra)
    return body


class ApiError(RuntimeError):
    """A management or system call that the suite needs did not succeed."""

    def __init__(self, message: str, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.exchange = exchange


def _expect(ex: Exchange, statuses: tuple[int, ...], what: str) -> Any:
    if ex.status not in statuses:
        detail = ex.error or f"HTTP {ex.status} {ex.error_code or ''}".strip()
        raise ApiError(f"{what} failed: {detail}", ex)
    return ex.data


class Management:
    """The management subset the suite provisions through (used, not judged)."""

    def __init__(self, http: Http, token: str) -> None:
        self.http = http
        self.token = token

    def _post(self, path: str, body: Any, what: str, ok: tuple[int, ...] = (200, 201)) -> Any:
        ex = self.http.request(
            "POST",
            path,
            json_body=body,
            headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": new_key()},
            operation="management",
        )
        return _expect(ex, ok, what)

    def create_product(self, name: str, code: str, metadata: Mapping[str, Any] | None = None) -> dict:
        body: dict[str, Any] = {"name": name, "code": code}
        if metadata:
            body["metadata"] = dict(metadata)
        return self._post("/api/v1/products", body, "create product")

    def create_policy(self, product_id: str, **fields: Any) -> dict:
        body = {k: v for k, v in fields.items() if v is not None}
        return self._post(f"/api/v1/products/{product_id}/policies", body, "create policy")

    def create_license(self, product_id: str, policy_id: str, **fields: Any) -> tuple[dict, str]:
        body = {"product_id": product_id, "policy_id": policy_id}
        body.update({k: v for k, v in fields.items() if v is not None})
        data = self._post("/api/v1/licenses", body, "create license")
        if not isinstance(data, dict) or "license" not in data or "license_key" not in data:
            raise ApiError("create license answered without data.license and data.license_key")
        return data["license"], data["license_key"]

    def floating_license(
        self,
        seats: int | None,
        timeout_minutes: int | None,
        *,
        name: str = "leasecheck",
        license_type: str = "subscription",
        policy_metadata: Mapping[str, Any] | None = None,
        **license_fields: Any,
    ) -> tuple[dict, dict, dict, str]:
        """A product, a floating policy and one license of it: (product, policy, license, key).

        For tests and tools that need a license and nothing else; the run's
        provisioning does the three steps itself, to record each as it goes."""
        code = new_key()
        product = self.create_product(name, code)
        policy = self.create_policy(
            product["id"],
            name=name,
            code=code,
            license_type=license_type,
            max_floating_users=seats,
            floating_timeout_minutes=timeout_minutes,
            metadata=dict(policy_metadata) if policy_metadata is not None else None,
        )
        lic, key = self.create_license(product["id"], policy["id"], **license_fields)
        return product, policy, lic, key

    def set_status(self, license_id: str, action: str) -> dict:
        if action not in ("suspend", "reinstate", "revoke"):
            raise ValueError(action)
        return self._post(f"/api/v1/licenses/{license_id}/{action}", {}, f"{action} license", ok=(200,))


class System:
    """Unauthenticated system endpoints."""

    def __init__(self, http: Http) -> None:
        self.http = http

    def public_keys(self) -> Exchange:
        return self.http.request("GET", PUBLIC_KEYS, operation="public-keys")

    def health(self, path: str = "/health") -> Exchange:
        return self.http.request("GET", path, operation=path.strip("/"))
