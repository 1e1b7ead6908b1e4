"""Fixtures for the reference server's own tests: a real server subprocess,
the shared HTTP client, and provisioning through the management API.

Time: the session server runs with one policy minute = 1 s. Tests never sleep
a fixed time; they wait on instants the server announced (lease_expires_at)
or poll with a deadline.
"""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from leasecheck.core.client import CHECKIN, CHECKOUT, HEARTBEAT, Exchange, Http, LeaseClient, Management, System
from leasecheck.core.server_process import ReferenceServer
from leasecheck.core.signing import KeyRing, SignatureError
from leasecheck.core.timeutil import parse_rfc3339, poll_until

MINUTE_SECONDS = 1.0
RUNTIME_PATHS = {CHECKOUT, HEARTBEAT, CHECKIN}


def parse_ts(text: str) -> float:
    """Epoch seconds of an RFC 3339 timestamp the server sent."""
    return parse_rfc3339(text)


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.02) -> Any:
    """Poll `predicate` until it is truthy; fail after `timeout` seconds."""
    return poll_until(predicate, timeout, interval=interval)


def sleep_past(instant: float, margin: float = 0.05) -> None:
    """Wait (in small steps) until the wall clock is past `instant` + margin."""
    wait_until(lambda: time.time() > instant + margin, timeout=max(0.0, instant - time.time()) + margin + 5)


class Waits:
    """The timing helpers, handed to tests as the `waits` fixture."""

    parse_ts = staticmethod(parse_ts)
    until = staticmethod(wait_until)
    past = staticmethod(sleep_past)


@pytest.fixture(scope="session")
def waits() -> Waits:
    return Waits()


@dataclass
class Answer:
    """An HTTP answer read off a raw socket: status, lower-cased headers, JSON body (or None)."""

    status: int
    headers: dict[str, str]
    body: Any
    raw: bytes


class Wire:
    """Raw sockets over 127.0.0.1, for what an HTTP client library would not send."""

    @staticmethod
    def connect(base_url: str, timeout: float = 5.0) -> socket.socket:
        host, port = base_url.rsplit("/", 1)[-1].rsplit(":", 1)
        return socket.create_connection((host, int(port)), timeout=timeout)

    @staticmethod
    def read_to_close(sock: socket.socket, timeout: float, *, reset_ok: bool = True) -> bytes:
        """Everything the server sends until it closes; TimeoutError if it is still open after `timeout`.
        With `reset_ok` false, a reset (a close with input unread, which can destroy the answer) fails."""
        deadline = time.monotonic() + timeout
        data = bytearray()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"the server kept the connection open for {timeout:.1f} s (sent {bytes(data)[:200]!r})"
                )
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                if not reset_ok:
                    raise AssertionError(f"the server reset the connection (sent {bytes(data)[:200]!r})") from None
                return bytes(data)
            if not chunk:
                return bytes(data)
            data += chunk

    @staticmethod
    def parse(raw: bytes) -> Answer:
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        try:
            doc = json.loads(body) if body else None
        except ValueError:
            doc = None
        return Answer(status, headers, doc, raw)

    @staticmethod
    def error_code(answer: Answer) -> str | None:
        """error.code of a well-formed error envelope (meta with request_id and an RFC 3339 timestamp), else None."""
        doc = answer.body
        if not (isinstance(doc, dict) and isinstance(doc.get("error"), dict) and isinstance(doc.get("meta"), dict)):
            return None
        assert str(doc["meta"]["request_id"]).startswith("req_"), doc
        parse_rfc3339(doc["meta"]["timestamp"])
        assert answer.headers.get("content-type", "").startswith("application/json"), answer.headers
        return str(doc["error"]["code"])

    @classmethod
    def get(cls, base_url: str, path: str = "/health", timeout: float = 5.0) -> Answer:
        """One GET on a fresh connection (Connection: close), read to the end."""
        with cls.connect(base_url, timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
            return cls.parse(cls.read_to_close(sock, timeout))


@pytest.fixture(scope="session")
def wire() -> type[Wire]:
    return Wire


class SignatureWatch:
    """An Http observer: every 2xx runtime answer must verify like the SDKs verify it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.ring = KeyRing()
        self.failures: list[str] = []
        self.verified = 0

    def _refresh(self) -> None:
        with Http(self.base_url) as http:
            self.ring.update(System(http).public_keys().data or [])

    def __call__(self, ex: Exchange) -> None:
        if ex.path not in RUNTIME_PATHS or not ex.ok:
            return
        try:
            sig = (ex.json or {}).get("signature") or {}
            if sig.get("kid") not in self.ring:
                self._refresh()
            self.ring.verify(ex.json)
            self.verified += 1
        except (SignatureError, AttributeError, TypeError) as exc:
            self.failures.append(f"{ex.describe()}: {exc}")


@pytest.fixture(scope="session")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(minute_seconds=MINUTE_SECONDS) as srv:
        yield srv
        log = srv.log_text()
        # Bad input must never reach the catch-all handler.
        assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-4000:]


@pytest.fixture
def sigwatch(server: ReferenceServer) -> Iterator[SignatureWatch]:
    watch = SignatureWatch(server.base_url)
    yield watch
    assert not watch.failures, "runtime answers whose signature does not verify:\n" + "\n".join(watch.failures)


@pytest.fixture
def http(server: ReferenceServer, sigwatch: SignatureWatch) -> Iterator[Http]:
    with Http(server.base_url, observers=[sigwatch]) as client:
        yield client


@pytest.fixture
def management(server: ReferenceServer, http: Http) -> Management:
    return Management(http, server.management_token)


@dataclass
class Provisioned:
    product: dict[str, Any]
    policy: dict[str, Any]
    license: dict[str, Any]
    license_key: str
    client: LeaseClient

    @property
    def license_id(self) -> str:
        return str(self.license["id"])


_codes = itertools.count()


@pytest.fixture
def provision(http: Http, management: Management) -> Callable[..., Provisioned]:
    """provision(seats=3, timeout_minutes=10, features=None, **license_fields) -> Provisioned."""

    def make(
        seats: int | None = 3,
        timeout_minutes: int | None = 10,
        features: list[dict[str, Any]] | None = None,
        license_type: str = "perpetual",
        **license_fields: Any,
    ) -> Provisioned:
        product, policy, lic, key = management.floating_license(
            seats,
            timeout_minutes,
            name=f"Product t{next(_codes)}",
            license_type=license_type,
            policy_metadata={"features": features} if features is not None else None,
            **license_fields,
        )
        return Provisioned(product, policy, lic, key, LeaseClient(http, key))

    return make
