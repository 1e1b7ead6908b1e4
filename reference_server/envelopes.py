"""The three response envelopes of specs/README.md, and the one signing step.

Signed runtime success: {data, signature, meta}; management and system
success: {data, meta}; error: {error: {code, message, detail?}, meta}.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from leasecheck.core.signing import sign

from . import clock
from .errors import ApiError
from .keys import KeyRingFile

REPLAYED_HEADER = "Idempotent-Replayed"


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    # Raw UTF-8, not \u escapes: the SDKs must cope with the bytes as they are.
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return Response(content, status_code=status, headers=dict(headers or {}), media_type="application/json")


class Envelopes:
    """Builds every JSON answer, with a fresh meta each time."""

    def __init__(self, keys: KeyRingFile, timestamp_style: str) -> None:
        self.keys = keys
        self.timestamp_style = timestamp_style

    def meta(self, request_id: str | None = None, at: float | None = None) -> dict[str, str]:
        return {
            "request_id": request_id or new_request_id(),
            "timestamp": clock.rfc3339(clock.now() if at is None else at, self.timestamp_style),
        }

    def signature(self, data: Any) -> dict[str, str]:
        """Ed25519 over `data` as the SDKs serialise it, with the active key."""
        active = self.keys.active()
        return sign(data, active.signing_key, active.kid)

    def plain(self, data: Any, status: int = 200) -> Response:
        return json_response({"data": data, "meta": self.meta()}, status)

    def signed(self, data: Any, *, replayed: bool = False) -> Response:
        return self.signed_as(data, self.meta(), replayed=replayed)

    def signed_as(self, data: Any, meta: dict[str, str], *, replayed: bool = False) -> Response:
        """A signed answer with a given meta: a replay sent as the stored bytes carries the
        first answer's (Ed25519 is deterministic, so data and signature are the stored ones too)."""
        headers = {REPLAYED_HEADER: "true"} if replayed else {}
        return json_response({"data": data, "signature": self.signature(data), "meta": meta}, 200, headers)

    def error(self, exc: ApiError, request_id: str | None = None) -> Response:
        error: dict[str, str] = {"code": exc.code, "message": exc.message}
        if exc.detail:
            error["detail"] = exc.detail
        return json_response({"error": error, "meta": self.meta(request_id)}, exc.status, exc.headers)
