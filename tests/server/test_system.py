"""Public keys, key files and rotation, health, readiness and metrics."""

from __future__ import annotations

import re
import stat
import subprocess
import sys

import pytest

from leasecheck.core.client import Http, LeaseClient, Management, System
from leasecheck.core.server_process import ReferenceServer
from leasecheck.core.signing import KeyRing

KID = re.compile(r"^ed25519-[0-9a-f]{16}$")


def test_public_keys_are_published_without_auth(http, provision):
    ex = System(http).public_keys()
    assert ex.status == 200
    keys = ex.data
    assert [k["status"] for k in keys].count("active") == 1
    for k in keys:
        assert KID.match(k["kid"]) and k["algorithm"] == "Ed25519"
        assert set(k) == {"kid", "algorithm", "public_key", "status", "created_at"}
    out = provision().client.checkout()
    active = next(k for k in keys if k["status"] == "active")
    assert out.json["signature"]["kid"] == active["kid"]
    assert out.json["signature"]["alg"] == "Ed25519"


def test_key_and_database_files_are_private(server):
    for path in (server.key_file, server.db_path):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, f"{path} has mode {mode:04o}"
    assert b"seed" in server.key_file.read_bytes()


@pytest.mark.parametrize("path", ["/health", "/healthz"])
def test_health(http, path):
    ex = http.request("GET", path)
    assert ex.status == 200
    assert ex.data == {"status": "ok"}
    assert ex.json["meta"]["request_id"].startswith("req_")


def test_readyz(http):
    ex = http.request("GET", "/readyz")
    assert (ex.status, ex.data) == (200, {"status": "ready", "db": "ok"})


def test_metrics(http, provision):
    p = provision(seats=2)
    p.client.checkout()
    ex = http.request("GET", "/metrics")
    assert ex.status == 200
    assert ex.header("content-type").startswith("text/plain; version=0.0.4")
    text = ex.response_body.decode()
    assert "# TYPE leasecheck_requests_total counter" in text
    assert re.search(
        r'leasecheck_requests_total\{route="/api/v1/license/floating/checkout",method="POST",'
        r'status="200"\} [1-9]',
        text,
    )
    live = re.search(r"^leasecheck_leases_active (\d+)$", text, re.M)
    assert live and int(live.group(1)) >= 1


def test_request_ids_differ(http):
    ids = {http.request("GET", "/health").json["meta"]["request_id"] for _ in range(5)}
    assert len(ids) == 5


def test_rotation_keeps_the_retired_key_published():
    with ReferenceServer(minute_seconds=1.0) as srv, Http(srv.base_url) as http:
        mgmt = Management(http, srv.management_token)
        prod = mgmt.create_product("Rotation", "rotation")
        pol = mgmt.create_policy(prod["id"], name="p", code="p", license_type="trial", max_floating_users=3)
        _, key = mgmt.create_license(prod["id"], pol["id"])
        client = LeaseClient(http, key)
        before = client.checkout()
        old_kid = before.json["signature"]["kid"]

        result = subprocess.run(
            [sys.executable, "-m", "leasecheck.reference_server", "rotate-key", "--key-file", str(srv.key_file)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        new_kid = result.stdout.split()[-1]
        assert KID.match(new_kid) and new_kid != old_kid
        assert stat.S_IMODE(srv.key_file.stat().st_mode) == 0o600

        keys = {k["kid"]: k["status"] for k in System(http).public_keys().data}
        assert keys == {old_kid: "retired", new_kid: "active"}
        after = client.checkout()  # the running server signs with the new key at once
        assert after.json["signature"]["kid"] == new_kid
        ring = KeyRing(System(http).public_keys().data)
        assert ring.verify(before.json).status == "retired"  # old answers still verify
        assert ring.verify(after.json).status == "active"
