"""Which answers may be a replay: a request that repeats an Idempotency-Key.

The sources leave two things about a replay to the server (facts, "Where
the sources are silent"): whether it says so (`Idempotent-Replayed`, a header
the contract does not have) and whether it returns the stored bytes (the
first answer's `meta.request_id` and `meta.timestamp`) or re-signs the data
with a fresh meta. So an answer to a request repeating a key sent before, by
the same credentials to the same path, cannot be told from a stored one, and
nothing that judges or measures a fresh meta may read it: request ids that
must differ (ENV-05), samples of the server's clock.
"""

from __future__ import annotations

import threading

from .client import Exchange

REPLAYED_HEADER = "idempotent-replayed"


class RepeatedKeys:
    """Remembers every (credentials, method, path, Idempotency-Key) seen; one per consumer,
    since asking about an exchange records it."""

    def __init__(self) -> None:
        self._seen: set[tuple[str | None, str, str, str]] = set()
        self._lock = threading.Lock()

    def may_be_replay(self, ex: Exchange) -> bool:
        """Whether `ex`'s answer may be a stored one: it says so, or its key was sent before."""
        key = ex.request_header("idempotency-key")
        if key is None:
            return False
        scope = (ex.request_header("authorization"), ex.method, ex.path.split("?", 1)[0], key)
        with self._lock:
            seen = scope in self._seen
            self._seen.add(scope)
        return seen or ex.header(REPLAYED_HEADER) is not None
