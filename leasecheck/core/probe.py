"""Is anybody there? One GET /health before a run sends anything else.

Conformance and load runs both probe their target first: a target nobody
listens at is a user's mistake (wrong URL or port) and ends the run with exit
2 before the first real request; a target that answers badly is judged.
"""

from __future__ import annotations

from leasecheck.core.client import Exchange, Http, System
from leasecheck.core.errors import UsageError


class TargetUnreachable(UsageError):
    """The target cannot be used at all; the message is the one-line reason."""


def probe(base_url: str, timeout: float = 5.0) -> Exchange:
    """GET /health once. A target nobody listens at raises TargetUnreachable with a
    one-line reason; one that accepts the connection but answers badly or late is
    returned as is, so the run judges it (and fails) rather than refusing it."""
    with Http(base_url, timeout=timeout) as http:
        ex = System(http).health()
    if ex.error and not ex.error.startswith(("ReadTimeout", "RemoteProtocolError", "ReadError")):
        raise TargetUnreachable(f"cannot reach {base_url}: {ex.error}")
    return ex
