"""The parts of the target against real servers: one bundled reference server for
the package's tests, and a loopback port nobody listens at (connection refused)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from leasecheck.conformance.settings import Settings
from leasecheck.core.client import Http, Management
from leasecheck.core.server_process import ReferenceServer


@pytest.fixture(scope="package")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(minute_seconds=1.0) as srv:
        yield srv


@pytest.fixture
def management(server: ReferenceServer) -> Iterator[Management]:
    assert server.base_url is not None
    with Http(server.base_url) as http:
        yield Management(http, server.management_token)


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A port bound and never listened on: every connection is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def settings_for(server: ReferenceServer, **values: object) -> Settings:
    """Settings for a run against `server` with its management token, as the CLI would make them."""
    return Settings.load({"target": server.base_url, "management_token": server.management_token, **values}, environ={})


def make_license(management: Management, seats: int = 2, timeout_minutes: int = 5) -> tuple[str, str]:
    """A license made outside the run (as an operator makes an inventory's): (id, key)."""
    _, _, lic, key = management.floating_license(seats, timeout_minutes, name="leasecheck test")
    return lic["id"], key
