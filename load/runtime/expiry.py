"""Client-side expiry: was a heartbeat or checkin sent after its lease had expired?

A lease ends at the `lease_expires_at` the server acknowledged (its clock).
A request sent after that instant finds the lease gone because the client
was late (a generator slower than the lease timeout, a pause, a retry that
waited too long); a refusal of a request sent while the lease was live is
the server's fault. Which one it was is derived, never guessed, from the
request's send time put on the server's clock.

The offset between the clocks is bounded by every answer that carries the
server's own stamp (`meta.timestamp`, else the `Date` header): the server
stamped it after the request was sent and before the answer came back, so

    stamp - received_at  <=  server - local  <=  stamp + resolution - sent_at

and the tightest bounds over all answers so far hold for every request (a
slow answer only loosens its own bounds, never the best ones). Without any
stamp the two clocks are taken to agree (one machine, the bundled server).
A refusal is a client-side expiry unless the send was *certainly* before the
acknowledged expiry: sent_at + upper bound < lease_expires_at. Anything else
(certainly after, or too close to tell) is not held against the server.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from leasecheck.core.client import Exchange

_FRACTION = re.compile(r"[.,](\d+)")


@dataclass
class ServerClock:
    """Bounds on (server clock - local clock), from every stamped answer seen."""

    lo: float = -math.inf
    hi: float = math.inf

    def learn(self, ex: Exchange) -> None:
        stamp = _stamp(ex)
        if stamp is None or ex.status is None:
            return
        at, resolution = stamp
        self.lo = max(self.lo, at - ex.received_at)
        self.hi = min(self.hi, at + resolution - ex.sent_at)

    def bounds(self) -> tuple[float, float]:
        if self.lo > self.hi or math.isinf(self.lo) or math.isinf(self.hi):
            return 0.0, 0.0  # no (consistent) stamp: the clocks are taken to agree
        return self.lo, self.hi

    def certainly_live_at(self, sent_at: float, expires_at: float) -> bool:
        """The request left while the lease was live, on any clock offset the stamps allow."""
        return sent_at + self.bounds()[1] < expires_at


def _stamp(ex: Exchange) -> tuple[float, float] | None:
    """The server's stamp on this answer and its resolution, seconds. The stamp
    is the exchange's own (`Exchange.stamp`, parsed once: the history reads it too)."""
    at = ex.stamp
    if at is not None:
        raw = ex.json["meta"]["timestamp"]  # a stamp was parsed: meta.timestamp is its text
        frac = _FRACTION.search(raw)
        return at, 10.0 ** -len(frac.group(1)) if frac else 1.0
    date = ex.header("date")
    if date:
        try:
            return parsedate_to_datetime(date).timestamp(), 1.0
        except (TypeError, ValueError):
            return None
    return None
