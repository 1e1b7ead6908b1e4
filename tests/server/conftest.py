"""Fixtures for the reference server's own tests: a real server subprocess,
the shared HTTP client, and provisioning through the management API.

Time: the session server runs with one policy minute = 1 s. Tests never sleep
a fixed time; they wait on instants the server announced (lease_expires_at)
or poll with a deadline.
"""

from __future__ import annotations

import itertools
import time
import uuid
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
        code = f"t{next(_codes)}-{uuid.uuid4().hex[:8]}"
        product = management.create_product(f"Product {code}", code)
        policy = management.create_policy(
            product["id"],
            name=f"Policy {code}",
            code=code,
            license_type=license_type,
            max_floating_users=seats,
            floating_timeout_minutes=timeout_minutes,
            metadata={"features": features} if features is not None else None,
        )
        lic, key = management.create_license(product["id"], policy["id"], **license_fields)
        return Provisioned(product, policy, lic, key, LeaseClient(http, key))

    return make
