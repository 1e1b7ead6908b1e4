"""SDK faults: answers the official Python SDK cannot use as its customers need (SDK-*)."""

from __future__ import annotations

import json

from starlette.responses import Response

from leasecheck.reference_server.envelopes import Envelopes, json_response
from leasecheck.reference_server.errors import ApiError

from . import bug


@bug("error-without-request-id", "SDK-03")
class ErrorsWithoutRequestId(Envelopes):
    """Error envelopes leave without meta.request_id (assigned after the error handler ran), so the SDK's ApiError
    carries no request id for support to find the request by.
    """

    def error(self, exc: ApiError, request_id: str | None = None) -> Response:
        doc = json.loads(bytes(super().error(exc, request_id).body))
        del doc["meta"]["request_id"]  # BUG: the request id is assigned after the error handler ran
        return json_response(doc, exc.status, exc.headers)
