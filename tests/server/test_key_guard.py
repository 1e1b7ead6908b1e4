"""The Idempotency-Key field as sent (reference_server/key_guard.py and
idempotency.key_problem): sent twice, control characters, bytes that are not
UTF-8, too long, or empty where it is optional, each is a 400 with its own
code, and a refused checkout takes no seat."""

from __future__ import annotations

import json

import pytest

from leasecheck.core.client import CHECKOUT, HEARTBEAT, OMIT, hardware_binding, new_key


def _post(wire, server, path: str, authorization: str, keys: list[bytes], body: dict):
    """One POST on a raw socket: `keys` become Idempotency-Key field lines exactly as given."""
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: {authorization}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    ).encode()
    lines = b"".join(b"Idempotency-Key: " + k + b"\r\n" for k in keys)
    with wire.connect(server.base_url) as sock:
        sock.sendall(head + lines + b"\r\n" + payload)
        return wire.parse(wire.read_to_close(sock, 10.0))


def _checkout(wire, server, p, keys: list[bytes], body: dict | None = None):
    return _post(wire, server, CHECKOUT, f"License {p.license_key}", keys, body or hardware_binding())


BAD_KEYS = {
    "sent-twice": ([b"k-1", b"k-2"], "IDEMPOTENCY_KEY_INVALID"),
    "sent-twice-same": ([b"k-1", b"k-1"], "IDEMPOTENCY_KEY_INVALID"),
    "c0-control": ([b"k\x01k"], "IDEMPOTENCY_KEY_INVALID"),
    "tab": ([b"k\tk"], "IDEMPOTENCY_KEY_INVALID"),
    "del": ([b"k\x7fk"], "IDEMPOTENCY_KEY_INVALID"),
    "c1-control-in-utf8": ([b"k\xc2\x85k"], "IDEMPOTENCY_KEY_INVALID"),
    "not-utf8": ([b"k\xffk"], "IDEMPOTENCY_KEY_INVALID"),
    "256-chars": ([b"k" * 256], "IDEMPOTENCY_KEY_TOO_LONG"),
    "256-two-byte-chars": (["é".encode() * 256], "IDEMPOTENCY_KEY_TOO_LONG"),
}


@pytest.mark.parametrize(("keys", "code"), list(BAD_KEYS.values()), ids=list(BAD_KEYS))
def test_a_malformed_checkout_key_is_400_with_its_own_code_and_takes_no_seat(provision, wire, server, keys, code):
    p = provision(seats=1)
    answer = _checkout(wire, server, p, keys)
    assert (answer.status, wire.error_code(answer)) == (400, code), answer.raw[:400]
    assert p.client.checkout().status == 200  # the only seat was still free


def test_a_malformed_checkin_key_is_refused_and_frees_nothing(provision, wire, server):
    p = provision(seats=1)
    token = p.client.checkout().lease_token
    answer = _post(
        wire,
        server,
        "/api/v1/license/floating/checkin",
        f"License {p.license_key}",
        [b"a", b"b"],
        {"lease_token": token},
    )
    assert (answer.status, wire.error_code(answer)) == (400, "IDEMPOTENCY_KEY_INVALID")
    assert p.client.heartbeat(token).status == 200  # still held


@pytest.mark.parametrize(
    "key", ["k" * 255, "é" * 255, "clé-ключ-鍵", "k"], ids=["255-ascii", "255-two-byte", "utf8", "1"]
)
def test_keys_the_spec_allows_are_accepted_and_replay(provision, wire, server, key):
    p = provision(seats=2)
    body = hardware_binding()
    first = _checkout(wire, server, p, [key.encode()], body)
    again = _checkout(wire, server, p, [key.encode()], body)
    assert first.status == again.status == 200, first.raw[:400]
    assert again.body["data"]["lease_token"] == first.body["data"]["lease_token"]
    assert again.headers.get("idempotent-replayed") == "true"


def test_a_missing_or_empty_checkout_key_is_still_key_required(provision, wire, server):
    p = provision(seats=1)
    for keys in ([], [b""]):
        answer = _checkout(wire, server, p, keys)
        assert (answer.status, wire.error_code(answer)) == (400, "IDEMPOTENCY_KEY_REQUIRED"), keys


def test_a_malformed_key_is_refused_before_credentials_are_checked(wire, server):
    # A malformed header field is a syntax error of the request; a *missing* key
    # waits for authentication (see test_auth_status / AUTH-03).
    answer = _post(wire, server, CHECKOUT, "License lk_nobody", [b"a", b"b"], hardware_binding())
    assert (answer.status, wire.error_code(answer)) == (400, "IDEMPOTENCY_KEY_INVALID")
    answer = _post(wire, server, CHECKOUT, "License lk_nobody", [], hardware_binding())
    assert answer.status == 401


MANAGEMENT_BAD = {
    "empty": ([b""], "IDEMPOTENCY_KEY_INVALID"),
    "sent-twice": ([b"m-1", b"m-2"], "IDEMPOTENCY_KEY_INVALID"),
    "control": ([b"m\x1bm"], "IDEMPOTENCY_KEY_INVALID"),
    "256-chars": ([b"m" * 256], "IDEMPOTENCY_KEY_TOO_LONG"),
}


@pytest.mark.parametrize(("keys", "code"), list(MANAGEMENT_BAD.values()), ids=list(MANAGEMENT_BAD))
def test_management_writes_refuse_a_key_the_spec_does_not_allow(wire, server, keys, code):
    code_name = f"kg-{new_key()}"
    answer = _post(
        wire, server, "/api/v1/products", f"Bearer {server.management_token}", keys, {"name": "n", "code": code_name}
    )
    assert (answer.status, wire.error_code(answer)) == (400, code), answer.raw[:400]


@pytest.mark.parametrize("keys", [[], [b"m-ok"], [b"m" * 255]], ids=["none", "short", "255"])
def test_management_writes_accept_no_key_or_a_valid_one(wire, server, keys):
    answer = _post(
        wire,
        server,
        "/api/v1/products",
        f"Bearer {server.management_token}",
        keys,
        {"name": "n", "code": f"kg-{new_key()}"},
    )
    assert answer.status == 201, answer.raw[:400]


def test_heartbeat_takes_no_key_and_ignores_one_sent(provision, wire, server):
    p = provision(seats=1)
    token = p.client.checkout().lease_token
    answer = _post(wire, server, HEARTBEAT, f"License {p.license_key}", [b"x", b"y\x01"], {"lease_token": token})
    assert answer.status == 200, answer.raw[:400]


def test_the_client_library_path_is_unchanged(provision):
    p = provision(seats=1)
    assert p.client.checkout(idempotency_key=new_key()).status == 200
    assert p.client.checkout(idempotency_key=OMIT).error_code == "IDEMPOTENCY_KEY_REQUIRED"


def test_gallery_servers_are_as_strict_about_the_key_as_this_one(wire):
    # The fault gallery builds its servers with app.create_app (its own app
    # factory); an honest variant must differ from this server only in its Behaviour.
    from leasecheck.core.server_process import ReferenceServer

    with ReferenceServer(module="leasecheck.gallery", extra_args=["--variant", "status-403"]) as srv:
        answer = _post(
            wire, srv, "/api/v1/products", f"Bearer {srv.management_token}", [b"a", b"b"], {"name": "n", "code": "c"}
        )
    assert (answer.status, wire.error_code(answer)) == (400, "IDEMPOTENCY_KEY_INVALID"), answer.raw[:400]
