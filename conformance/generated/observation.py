"""One request a generated run sent: the suite's own `Exchange`, and the case it came from.

The request and its answer are a core `Exchange`, so the universal
inspection, the lease tracker and the reports take them as they take the
suite's own. What only schemathesis knows rides beside it: the phase that
made the case, whether it meant the request to be valid (positive) or not
(negative), and the coverage scenario it plays. The judging needs all three
and reads them here, never from schemathesis's types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from leasecheck.core.client import Exchange

#: The coverage scenario that sends an operation's path with a method it does not document.
WRONG_METHOD = "unspecified_http_method"


@dataclass(frozen=True)
class Observation:
    """A generated request (or a check's probe request) as it went over the wire, and its answer."""

    exchange: Exchange  # its `operation` is the client's label (see operations.CLIENT_LABEL)
    operation: str  # the operationId of the operation the case was generated for
    phase: str  # examples | coverage | fuzzing | stateful
    mode: str = "positive"  # schemathesis's intent: positive | negative
    scenario: str | None = None  # the coverage scenario, when the coverage phase made it
    probe: bool = False  # sent by a check (e.g. ignored_auth), not generated
    case_id: str = ""
    seq: int = 0  # its place in the run, in the order the answers arrived

    @property
    def status(self) -> int | None:
        return self.exchange.status

    @property
    def documented_method(self) -> bool:
        """False for a wrong-method probe: it judges INPUT-05 (and INPUT-04), nothing else."""
        return self.scenario != WRONG_METHOD

    def sent_header(self, name: str) -> str | None:
        return self.exchange.request_header(name)

    def sent_json(self) -> tuple[bool, Any]:
        """(parsed, value): whether the request body is JSON at all, and its value
        (a JSON `null` is parsed: it breaks the body's type, not its syntax)."""
        body = self.exchange.request_body
        if not body:
            return False, None
        try:
            return True, json.loads(body)
        except ValueError:
            return False, None

    def lease_token_sent(self) -> str | None:
        parsed, body = self.sent_json()
        token = body.get("lease_token") if parsed and isinstance(body, dict) else None
        return token if isinstance(token, str) else None

    def describe(self) -> str:
        """One line for messages: the exchange, then the case's phase, mode and scenario."""
        scenario = f", {self.scenario}" if self.scenario else ""
        return f"{self.exchange.describe()} ({self.phase}, {self.mode}{scenario})"
