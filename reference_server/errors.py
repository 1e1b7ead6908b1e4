"""Error codes and the one exception every refusal is raised as.

Handlers raise `ApiError`; app.py turns it into an error envelope. The codes
and statuses are the table in specs/README.md.
"""

from __future__ import annotations

from collections.abc import Mapping

UNAUTHORIZED = "UNAUTHORIZED"
INVALID_JSON = "INVALID_JSON"
VALIDATION_ERROR = "VALIDATION_ERROR"
IDEMPOTENCY_KEY_REQUIRED = "IDEMPOTENCY_KEY_REQUIRED"
IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"
# An Idempotency-Key sent more than once, with control characters or bytes that
# are not UTF-8, or empty where it is optional (management writes): 400.
IDEMPOTENCY_KEY_INVALID = "IDEMPOTENCY_KEY_INVALID"
# Longer than this server keeps (idempotency.MAX_KEY_LENGTH): 400. The contract
# sets no limit, so this is a limit of our own, not "key required".
IDEMPOTENCY_KEY_TOO_LONG = "IDEMPOTENCY_KEY_TOO_LONG"
FLOATING_NOT_ENABLED = "FLOATING_NOT_ENABLED"
LICENSE_INACTIVE = "LICENSE_INACTIVE"
LICENSE_EXPIRED = "LICENSE_EXPIRED"
LEASE_NOT_FOUND = "LEASE_NOT_FOUND"
LEASE_NOT_ACTIVE = "LEASE_NOT_ACTIVE"  # the 409/422 variants' code for the same refusal
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
CONFLICT = "CONFLICT"
INTERNAL_ERROR = "INTERNAL_ERROR"
# Written by the HTTP layer (connections.py), before a request reaches the app.
MALFORMED_REQUEST = "MALFORMED_REQUEST"  # 400: request line or headers h11 cannot parse
REQUEST_HEADERS_TOO_LARGE = "REQUEST_HEADERS_TOO_LARGE"  # 400: header block over the parser's limit
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"  # 408: headers or body stalled past their timeout
TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"  # 503 + Retry-After: over the connection bound


class ApiError(Exception):
    """A refusal: HTTP status, error code, a message safe to show a client."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = dict(headers or {})


def bad_request(message: str) -> ApiError:
    return ApiError(400, VALIDATION_ERROR, message)


def unprocessable(message: str) -> ApiError:
    return ApiError(422, VALIDATION_ERROR, message)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, UNAUTHORIZED, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, NOT_FOUND, message)


def lease_not_found() -> ApiError:
    # One answer for unknown, expired, checked-in and other-license leases, so
    # that a token's fate under another license is not revealed.
    return ApiError(404, LEASE_NOT_FOUND, "no live lease with this lease_token for this license")
