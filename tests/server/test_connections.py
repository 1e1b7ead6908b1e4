"""The HTTP connection layer (reference_server/connections.py): stalled and idle
connections are closed in bounded time, and requests h11 cannot parse get the
project's error envelope instead of uvicorn's plain text."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest

from leasecheck.core.client import CHECKOUT
from leasecheck.core.server_process import ReferenceServer

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
KEEP_ALIVE_TIMEOUT = 1.0
SLACK = 4.0  # scheduling on a busy machine; every timeout here is 1 s


@pytest.fixture(scope="module")
def fast() -> Iterator[ReferenceServer]:
    args = ["--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT)]
    with ReferenceServer(extra_args=[*args, "--keep-alive-timeout", str(KEEP_ALIVE_TIMEOUT)]) as srv:
        yield srv
        assert "Traceback" not in srv.log_text(), srv.log_text()[-4000:]


def _stalled(wire, srv: ReferenceServer, payload: bytes, timeout: float):
    """Send `payload` and nothing more; the answer the server sends before it closes, and when."""
    with wire.connect(srv.base_url) as sock:
        start = time.monotonic()
        if payload:
            sock.sendall(payload)
        raw = wire.read_to_close(sock, timeout + SLACK)
        return raw, time.monotonic() - start


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(fast, wire):
    raw, took = _stalled(wire, fast, b"", HEADER_TIMEOUT)
    assert raw == b""
    assert took >= HEADER_TIMEOUT * 0.9


def test_headers_that_stop_halfway_get_a_408_envelope(fast, wire):
    raw, took = _stalled(wire, fast, b"GET /health HTTP/1.1\r\nHost: t\r\nX-Half: ", HEADER_TIMEOUT)
    answer = wire.parse(raw)
    assert (answer.status, wire.error_code(answer)) == (408, "REQUEST_TIMEOUT")
    assert answer.headers["connection"] == "close"
    assert took >= HEADER_TIMEOUT * 0.9


def test_trickled_headers_do_not_restart_the_header_timeout(fast, wire):
    # Slowloris: one byte every 0.2 s keeps a connection busy forever unless the
    # deadline counts from the start of the request, not from the last byte.
    request = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 200
    with wire.connect(fast.base_url) as sock:
        start = time.monotonic()
        sock.settimeout(0.2)
        for i in range(len(request)):  # bounded: 200 bytes * 0.2 s is 40 s, far past the timeout
            try:
                sock.sendall(request[i : i + 1])
                got = sock.recv(65536)  # waits up to 0.2 s for the server to answer or close
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                got = b""
            raw = got + (wire.read_to_close(sock, SLACK) if got else b"")
            break
        else:
            pytest.fail("the server read 200 trickled bytes without closing")
        took = time.monotonic() - start
    assert took < HEADER_TIMEOUT + SLACK
    if raw:
        assert wire.error_code(wire.parse(raw)) == "REQUEST_TIMEOUT"


def test_a_body_that_stops_short_of_its_content_length_gets_a_408_envelope(fast, wire):
    head = (
        f"POST /api/v1/products HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {fast.management_token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    raw, took = _stalled(wire, fast, head.encode() + b'{"name": "x",', BODY_TIMEOUT)
    answer = wire.parse(raw)
    assert (answer.status, wire.error_code(answer)) == (408, "REQUEST_TIMEOUT")
    assert took >= BODY_TIMEOUT * 0.9


def test_a_body_never_sent_after_an_early_answer_does_not_hold_the_connection(fast, wire):
    # 401 is answered before the body is read; the declared body never comes.
    head = b"POST /api/v1/license/floating/checkout HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"
    raw, _ = _stalled(wire, fast, head, max(BODY_TIMEOUT, KEEP_ALIVE_TIMEOUT))
    assert wire.error_code(wire.parse(raw)) == "UNAUTHORIZED"


def test_an_idle_keep_alive_connection_is_closed(fast, wire):
    with wire.connect(fast.base_url) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        start = time.monotonic()
        raw = wire.read_to_close(sock, KEEP_ALIVE_TIMEOUT + SLACK)
        assert wire.parse(raw).status == 200
        assert time.monotonic() - start >= KEEP_ALIVE_TIMEOUT * 0.9


def test_a_second_request_that_stalls_on_a_keep_alive_connection_is_closed(fast, wire):
    # uvicorn's keep-alive timer stops at the first byte of the next request;
    # a request that then stalls was never timed out.
    with wire.connect(fast.base_url) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        first = b""
        while b'"ok"' not in first:  # the first answer, complete (bounded by the socket timeout)
            first += sock.recv(65536)
        sock.sendall(b"GET /health HTTP/1.1\r\nHo")
        raw = wire.read_to_close(sock, HEADER_TIMEOUT + SLACK)
    answer = wire.parse(raw)
    assert (answer.status, wire.error_code(answer)) == (408, "REQUEST_TIMEOUT")


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /health HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
        b"GET /health HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n",
    ],
    ids=["request-line", "no-host", "header-name"],
)
def test_a_request_h11_cannot_parse_gets_a_400_envelope(server, wire, request_bytes):
    raw, _ = _stalled(wire, server, request_bytes, 1.0)
    answer = wire.parse(raw)
    assert (answer.status, wire.error_code(answer)) == (400, "MALFORMED_REQUEST"), raw[:300]


def test_a_one_mebibyte_header_gets_a_400_envelope(server, wire):
    big = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"
    with wire.connect(server.base_url) as sock:

        def send() -> None:
            # The server closes after its answer; what it did not read is dropped.
            with contextlib.suppress(OSError):
                sock.sendall(big)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        raw = wire.read_to_close(sock, SLACK)
        sender.join(SLACK)
    answer = wire.parse(raw)
    assert (answer.status, wire.error_code(answer)) == (400, "REQUEST_HEADERS_TOO_LARGE"), raw[:300]


def test_a_broken_chunked_body_gets_a_400_envelope(server, wire):
    head = (
        f"POST /api/v1/products HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {server.management_token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    raw, _ = _stalled(wire, server, head.encode() + b"zz\r\n{}\r\n", 1.0)
    answer = wire.parse(raw)
    assert (answer.status, wire.error_code(answer)) == (400, "MALFORMED_REQUEST"), raw[:300]


def test_well_formed_requests_are_unchanged(server, wire):
    answer = wire.get(server.base_url, "/health")
    assert answer.status == 200 and answer.body["data"] == {"status": "ok"}


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_the_limit_gets_its_413_and_the_connection_closes(server, wire, framing):
    # The connection stayed open after the 413, reading and dropping the rest of the body
    # until the body timeout (30 s); the client, still sending, never learnt it could stop.
    # Closed at once, with the body unread, it would be reset instead: that can destroy the answer.
    answer = _oversized(server, wire, "/api/v1/products", f"Bearer {server.management_token}", framing)
    assert (answer.status, wire.error_code(answer)) == (413, "PAYLOAD_TOO_LARGE")
    assert answer.headers["connection"] == "close"


@pytest.mark.parametrize(
    ("path", "authorization"),
    [(CHECKOUT, "License lk_not_a_key"), ("/api/v1/no-such-route", "Bearer wrong")],
    ids=["bad-key", "unknown-route"],
)
def test_a_declared_length_over_the_limit_is_refused_before_route_or_credentials(server, wire, path, authorization):
    # A bad key got its 401 and an unknown route its 404 on a connection kept open,
    # which then read the whole declared body and dropped it.
    answer = _oversized(server, wire, path, authorization, "content-length")
    assert (answer.status, wire.error_code(answer)) == (413, "PAYLOAD_TOO_LARGE")
    assert answer.headers["connection"] == "close"


def _oversized(server, wire, path: str, authorization: str, framing: str):
    """POST a body far over the limit, still sending while the answer comes; the answer,
    read until the server closes the connection (under its keep-alive and body timeouts)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: {authorization}\r\n"
        "Content-Type: application/json\r\nIdempotency-Key: big-1\r\n"
    )
    first, piece = b" " * (1 << 20), b" " * 4096  # a mebibyte at once: more than the server reads before it answers
    if framing == "content-length":
        head += f"Content-Length: {100 << 20}\r\n\r\n"  # declared over the limit: refused before any body is read
    else:
        head += "Transfer-Encoding: chunked\r\n\r\n"  # refused once the body grows past the limit
        first, piece = (b"%x\r\n%s\r\n" % (len(b), b) for b in (first, piece))
    stop = threading.Event()
    with wire.connect(server.base_url) as sock:

        def send_body() -> None:
            with contextlib.suppress(OSError):
                sock.sendall(head.encode() + first)
                while not stop.wait(0.02):  # and more, 200 KB/s, until told to stop
                    sock.sendall(piece)

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        try:
            raw = wire.read_to_close(sock, 3.0, reset_ok=False)  # under the keep-alive (5 s) and body (30 s) timeouts
        finally:
            stop.set()
            sender.join(SLACK)
    return wire.parse(raw)
