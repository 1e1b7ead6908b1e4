"""Error envelopes written straight to a socket, below the ASGI app.

The HTTP layer (connections.py) refuses some requests before there is a
request for Starlette to route: a request line or header block h11 cannot
parse, headers that stall, a connection over the bound. Those answers are
the same error envelope as every other failure (`{error: {code, message},
meta: {request_id, timestamp}}`), built here as complete HTTP/1.1 responses
that close the connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.utils import formatdate
from http import HTTPStatus

from . import clock
from .envelopes import new_request_id


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    timestamp_style: str = "millis_z",
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """The bytes of a `Connection: close` answer carrying an error envelope."""
    meta = {"request_id": new_request_id(), "timestamp": clock.rfc3339(clock.now(), timestamp_style)}
    body = json.dumps({"error": {"code": code, "message": message}, "meta": meta}, separators=(",", ":")).encode()
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        f"date: {formatdate(usegmt=True)}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
