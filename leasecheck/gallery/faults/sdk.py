"""SDK faults: answers the official Python SDK cannot use as its customers need (SDK-*)."""

from __future__ import annotations

import json

from starlette.responses import Response

from leasecheck.reference_server.envelopes import Envelopes, json_response
from leasecheck.reference_server.errors import ApiError


class ErrorsWithoutRequestId(Envelopes):
    """Error envelopes leave without meta.request_id, so the SDK's ApiError has none to quote."""

    def error(self, exc: ApiError, request_id: str | None = None) -> Response:
        doc = json.loads(bytes(super().error(exc, request_id).body))
        del doc["meta"]["request_id"]  # BUG: the request id is assigned after the error handler ran
        return json_response(doc, exc.status, exc.headers)
