"""Every request a run sends, and what the run learns from every answer.

A run is a guest on the server it tests, and it may run against a server
that has died. So every request, whichever scenario sends it on whichever
connection, passes one gate before it leaves:

- once the run is ending, no new request (`RunEnding`): cleanup then has
  the target to itself, on a connection of its own;
- once the target has not answered `SILENCE_LIMIT` requests in a row, no
  more (`TargetStoppedAnswering`): a target that stops answering is cut off
  after 6 silent requests in a row, so the rest of the run fails in
  moments instead of waiting out one request timeout per request;
- the run's average rate cap (`Pacer`, shared by every connection).

A 429 is waited out as its Retry-After asks, within one budget for the
whole run (`Backoff`); `throttle_observers` see each 429 waited out.

Every answer passes the same observers, in order: the silence count, the
server clock (waits on lease deadlines are computed on the server's time,
see core/timeutil.py), then what the run adds (`observers`: lease tracking,
envelope inspection).
"""

from __future__ import annotations

import functools
import threading
import urllib.request
from urllib.parse import urlsplit

import httpx

from leasecheck.core.client import Exchange, Http, Observer, tls_context
from leasecheck.core.pacing import Backoff, Pacer, Permit
from leasecheck.core.replays import RepeatedKeys
from leasecheck.core.timeutil import ServerClock

from .attribution import working, working_for

#: Requests in a row without an answer after which the target is declared silent.
SILENCE_LIMIT = 6


class RunEnding(Exception):
    """The run is ending (finished, interrupted): scenarios may not send more requests."""


class TargetStoppedAnswering(Exception):
    """Too many requests in a row got no answer: the rest of the run fails fast."""


class Transport:
    """The connections of one run to one target, behind one gate and one set of observers."""

    def __init__(
        self, base_url: str, *, request_timeout: float, max_rps: float | None, rate_limit_budget: float
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.request_timeout = request_timeout
        self.clock = ServerClock()
        #: A replay's meta may be the stored one, its timestamp long past: no clock sample (replays.py).
        self._repeats = RepeatedKeys()
        self.pacer = Pacer(max_rps) if max_rps else None
        self.backoff = Backoff(budget_seconds=rate_limit_budget)
        #: Called with every answer, after the silence count and the clock.
        self.observers: list[Observer] = []
        #: Called with each 429 that was waited out (the final answer goes to `observers`).
        self.throttle_observers: list[Observer] = []
        self._closing = False
        self._silent_in_a_row = 0
        self._https: list[Http] = []
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()
        #: The environment's proxy for this target, read once here, on the thread that starts
        #: the run: httpx reads the whole environment for every new client, and while
        #: scenarios open connections in their threads pytest rewrites PYTEST_CURRENT_TEST
        #: on its own (a client made meanwhile failed with KeyError).
        url = urlsplit(self.base_url)
        proxies = urllib.request.getproxies()
        bypass = bool(url.hostname) and bool(urllib.request.proxy_bypass(url.hostname or ""))
        self._proxy = None if bypass else proxies.get(url.scheme)

    def new_http(self) -> Http:
        """A new connection pool through the gate (concurrency scenarios use one per thread).

        Its answers are observed as the work of the scenario the opening thread works
        for (attribution.py), in whichever thread they arrive."""
        owner = working_for()
        client = httpx.Client(
            base_url=self.base_url,
            timeout=self.request_timeout,
            verify=tls_context(),
            trust_env=False,
            proxy=self._proxy,
        )
        http = Http(
            self.base_url,
            client=client,
            timeout=self.request_timeout,
            observers=[self._observe if owner is None else functools.partial(self._observe_for, owner)],
            before_request=self._gate,
            backoff=self.backoff,
        )
        http.throttle_listeners.append(self._throttled)
        with self._lock:
            self._https.append(http)
            self._clients.append(client)
        return http

    def race_permit(self, requests: int) -> Permit | None:
        """Pay the rate cap for a whole race up front, so that its requests still
        leave together (None without a cap)."""
        return self.pacer.reserve(requests) if self.pacer is not None else None

    @property
    def closing(self) -> bool:
        return self._closing

    def refuse_new_requests(self) -> None:
        """From now on the gate refuses every request (`RunEnding`); those in flight land."""
        self._closing = True

    @property
    def inflight(self) -> int:
        """Requests sent on this run's connections and not yet answered (and observed)."""
        with self._lock:
            https = list(self._https)
        return sum(h.inflight for h in https)

    def close(self) -> None:
        with self._lock:
            https, clients = list(self._https), list(self._clients)
        for h in https:
            h.close()
        for c in clients:
            c.close()

    # ------------------------------------------------------------- plumbing
    def _gate(self) -> None:
        if self._closing:
            raise RunEnding("the run is ending; no new requests")
        if self._silent_in_a_row >= SILENCE_LIMIT:
            raise TargetStoppedAnswering(
                f"the target did not answer {self._silent_in_a_row} requests in a row; not sending more"
            )
        if self.pacer is not None:
            self.pacer.acquire()

    def _observe_for(self, owner: str, ex: Exchange) -> None:
        with working(owner):
            self._observe(ex)

    def _observe(self, ex: Exchange) -> None:
        self._silent_in_a_row = self._silent_in_a_row + 1 if ex.error else 0
        replay = self._repeats.may_be_replay(ex)
        if ex.status is not None and isinstance(ex.json, dict) and not replay:
            meta = ex.json.get("meta")
            if isinstance(meta, dict):
                self.clock.observe(ex.sent_at, ex.received_at, meta.get("timestamp"))
        for observe in self.observers:
            observe(ex)

    def _throttled(self, ex: Exchange) -> None:
        for observe in self.throttle_observers:
            observe(ex)
