"""The HTTP connection layer: timeouts, a bound on connections, envelopes for parse errors.

uvicorn 0.54's h11 protocol has one timer, the keep-alive timeout, armed only
after a response. A connection that sends nothing, stops in the middle of its
headers or before its declared body was never closed, and with the default
1,024 file descriptors 1,100 idle connections starved `/health`.
`HardenedH11Protocol` is that protocol with, per connection:

- a **header timeout**: the request line and headers must be complete within
  `header_timeout` seconds, counted from the accept (first request) or from
  the first byte of a later request (slowloris: trickling bytes does not
  restart it);
- a **body timeout**: the whole body must arrive within `body_timeout`
  seconds of the end of the headers;
- uvicorn's own **keep-alive timeout** between requests (`--keep-alive-timeout`);
- a **bound** on open connections per worker, below the file-descriptor
  limit: over it, the connection idle longest (no request in progress) is
  closed to make room; when none is idle, the new connection gets a 503
  `TOO_MANY_CONNECTIONS` envelope with `Retry-After`. Every such event, and
  every timeout, is tallied (tally.py), not logged line by line.

Answers it writes itself (raw_answers.py), each closing the connection:
400 `MALFORMED_REQUEST` / `REQUEST_HEADERS_TOO_LARGE` where uvicorn wrote its
plain-text "Invalid HTTP request received.", 408 `REQUEST_TIMEOUT` for stalled
headers or body, 503 `TOO_MANY_CONNECTIONS`. Each is written, the write side
is shut, and what the client still sends is read and dropped for up to
`LINGER_SECONDS`: closing with unread input would reset the connection and
could destroy the answer before the client reads it.

The app's answers that end a connection with their request body still
unread close the same way: uvicorn closes at once after an answer with
`Connection: close`, which the app sends with a 413 `PAYLOAD_TOO_LARGE`
(app.Api.read_body: the rest of the body is not read, and the client learns
at once that it can stop sending) and uvicorn with its own 500.

Where no envelope is possible, and none is sent:
- a connection that sent no byte when its header timeout passes, or an idle
  one closed to make room: nothing was asked, so it is closed silently (as
  keep-alive connections are);
- a parse error after the app has started its answer (a broken chunked body
  under a response already begun): the connection is closed mid-answer;
- connections the kernel holds before `accept` (the listen backlog) or drops
  when the backlog is full, and accepts that fail for want of descriptors
  (EMFILE): there is no socket to write to yet (accept errors are tallied by
  event_loop.py);
- a 500 uvicorn writes itself when the app ends without answering (the app's
  own handlers answer every exception with an envelope first).
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import itertools
import logging
import resource
import termios
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import h11
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from .access_log import access_line
from .errors import MALFORMED_REQUEST, REQUEST_HEADERS_TOO_LARGE, REQUEST_TIMEOUT, TOO_MANY_CONNECTIONS
from .raw_answers import error_response
from .tally import Tally

log = logging.getLogger("leasecheck.reference_server")

#: Descriptors kept free for everything but client sockets (listening socket,
#: logs, SQLite: about two per thread-pool thread, 40 threads).
FD_HEADROOM = 256
LINGER_SECONDS = 2.0
RETRY_AFTER_SECONDS = 1

#: How many idle connections (oldest first) one newcomer looks at for one to close.
EVICTION_SCAN = 32

Phase = Literal["headers", "body"]

TIMED_OUT = Tally(log, "closed a connection that stalled")
SHED = Tally(log, "refused a connection over the bound (503)")
EVICTED = Tally(log, "closed an idle connection to make room")


def fd_limit() -> int:
    """This process's soft limit on open file descriptors."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 65536 if soft == resource.RLIM_INFINITY else int(soft)


def connection_bound(configured: int = 0, fds: int | None = None) -> int:
    """Open connections one worker allows: `configured`, or (0) what the fd limit leaves room for."""
    if configured > 0:
        return configured
    fds = fd_limit() if fds is None else fds
    return max(1, fds // 2, fds - FD_HEADROOM)


def _unread_input(transport: asyncio.BaseTransport) -> bool:
    """Whether bytes the peer sent wait in the kernel, not yet read by the loop (FIONREAD)."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return False
    count = array.array("i", [0])
    try:
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, count)
    except OSError:
        return False
    return count[0] > 0


@dataclass(frozen=True)
class ConnectionSettings:
    """What each connection of a worker is held to (see the module docstring)."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = field(default_factory=connection_bound)
    timestamp_style: str = "millis_z"


class HardenedConfig(Config):
    """uvicorn's Config, serving with `HardenedH11Protocol` and carrying its settings to every worker."""

    def __init__(self, app: Any, *, connections: ConnectionSettings, **kwargs: Any) -> None:
        self.connections = connections
        super().__init__(app, http=f"{__name__}:HardenedH11Protocol", **kwargs)


class _AnswerTransport:
    """The connection's transport as one request's cycle sees it: the same, but its
    close is `HardenedH11Protocol.close_after_answer` (see the module docstring)."""

    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: HardenedH11Protocol, transport: asyncio.Transport) -> None:
        self._protocol = protocol
        self._transport = transport

    def write(self, data: bytes) -> None:
        self._transport.write(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self._protocol.close_after_answer()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


#: Per server (one per worker process): its idle connections, longest idle first.
_IDLE: weakref.WeakKeyDictionary[ServerState, dict[HardenedH11Protocol, None]] = weakref.WeakKeyDictionary()


class HardenedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with header/body timeouts, a connection bound and envelope answers."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        line = access_line(self.loop) if self.access_log else None
        if line is not None:  # the same line as uvicorn's, for a fraction of its cost (access_log.py)
            self.access_logger = line  # type: ignore[assignment]
        self.limits = config.connections if isinstance(config, HardenedConfig) else ConnectionSettings()
        self.max_incomplete = config.h11_max_incomplete_event_size or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
        #: Connections with no request in progress, in the order they became idle (eviction order).
        self.idle = _IDLE.setdefault(server_state, {})
        self._answered = 0
        self._phase: Phase | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._lingering: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections and not self._make_room():
            SHED.record(self.loop, f"{len(self.connections) - 1} open, bound {self.limits.max_connections}")
            self._refuse(
                503,
                TOO_MANY_CONNECTIONS,
                f"the server has {self.limits.max_connections} connections open; retry shortly",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            return
        self._track()

    def data_received(self, data: bytes) -> None:
        if self._lingering is not None:
            return  # an answer is written; what follows is read only to be dropped
        super().data_received(data)
        self._track()

    def connection_lost(self, exc: Exception | None) -> None:
        self._set_phase(None)
        self.idle.pop(self, None)
        if self._lingering is not None:
            self._lingering.cancel()
        super().connection_lost(exc)

    # ------------------------------------------------------------------ uvicorn hooks
    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        # uvicorn makes each request's cycle here, with the plain transport; its task has not run yet.
        if self.cycle is not None and self.cycle is not cycle:
            self.cycle.transport = cast(asyncio.Transport, _AnswerTransport(self, self.transport))

    def on_response_complete(self) -> None:
        self._answered += 1
        super().on_response_complete()
        if self._lingering is not None:
            self._unset_keepalive_if_required()  # the linger ends the connection, not the keep-alive timer
        self._track()

    def close_after_answer(self) -> None:
        """uvicorn closes after an answer: at once, or lingering while the request's body is still coming."""
        if self._lingering is not None:
            return  # already closing, once the lingering is over
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            self._linger()
        else:
            self.transport.close()

    def shutdown(self) -> None:
        if self._lingering is not None:
            self.transport.close()
            return
        super().shutdown()

    def send_400_response(self, msg: str) -> None:
        """h11 could not parse the request (uvicorn's plain-text 400): an envelope instead."""
        if self.cycle is not None and not self.cycle.response_complete:
            if self.cycle.response_started:
                self.transport.close()  # an answer is half written: nothing else can be said
                return
            self._detach_app()
        if len(self.conn.trailing_data[0]) > self.max_incomplete:
            code, message = (
                REQUEST_HEADERS_TOO_LARGE,
                f"the request line and headers exceed {self.max_incomplete} bytes",
            )
        else:
            code, message = MALFORMED_REQUEST, "the request is not valid HTTP/1.1 (request line or headers)"
        self._refuse(400, code, message)

    # ------------------------------------------------------------------ state
    def _track(self) -> None:
        """Derive what this connection is waiting for, and arm the matching timer."""
        if self._lingering is not None or self.transport.is_closing():
            self._set_phase(None)
            self.idle.pop(self, None)
            return
        busy = self.cycle is not None and not self.cycle.response_complete
        buffered = bool(self.conn.trailing_data[0])
        state = self.conn.their_state
        if state is h11.IDLE and not busy and not buffered:
            self.idle.setdefault(self)  # keeps its place if it already was idle
        else:
            self.idle.pop(self, None)
        if state is h11.SEND_BODY:
            self._set_phase("body")
        elif state is h11.IDLE and not busy and (buffered or self._answered == 0):
            self._set_phase("headers")  # keep-alive idleness itself is uvicorn's timer
        else:
            self._set_phase(None)

    def _set_phase(self, phase: Phase | None) -> None:
        if phase == self._phase:
            return  # a phase keeps the deadline it started with
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._phase = phase
        if phase is not None:
            timeout = self.limits.header_timeout if phase == "headers" else self.limits.body_timeout
            self._deadline = self.loop.call_later(timeout, self._expired, phase)

    def _expired(self, phase: Phase) -> None:
        self._deadline = None
        self._phase = None
        if self.transport.is_closing():
            return
        if phase == "headers":
            if not self.conn.trailing_data[0]:
                self.transport.close()  # it never asked anything
                return
            TIMED_OUT.record(self.loop, f"headers incomplete after {self.limits.header_timeout:g} s")
            self._refuse(
                408, REQUEST_TIMEOUT, f"the request headers did not arrive within {self.limits.header_timeout:g} s"
            )
            return
        TIMED_OUT.record(self.loop, f"body incomplete after {self.limits.body_timeout:g} s")
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()
            return
        self._detach_app()
        self._refuse(408, REQUEST_TIMEOUT, f"the request body did not arrive within {self.limits.body_timeout:g} s")

    def _make_room(self) -> bool:
        """Close the connection idle longest, if any is idle; True when one was closed.

        A connection looks idle until the loop reads what it sent; one whose
        request is already waiting in the kernel is not idle and is skipped.
        """
        candidates = itertools.islice((p for p in self.idle if p is not self), EVICTION_SCAN)
        victim = next((p for p in candidates if not _unread_input(p.transport)), None)
        if victim is None:
            return False
        self.idle.pop(victim)
        victim._set_phase(None)
        victim.transport.close()
        EVICTED.record(self.loop, f"bound {self.limits.max_connections}")
        return True

    # ------------------------------------------------------------------ answers
    def _detach_app(self) -> None:
        """The app's request is over: it sees a disconnect, and anything it sends is dropped."""
        assert self.cycle is not None
        self.cycle.disconnected = True
        self.cycle.message_event.set()

    def _refuse(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        """Write an error envelope, then close lingering."""
        self.transport.write(
            error_response(status, code, message, timestamp_style=self.limits.timestamp_style, headers=headers)
        )
        self._linger()

    def _linger(self) -> None:
        """Shut the write side, drop what the client still sends for a while, then close."""
        self._set_phase(None)
        self._unset_keepalive_if_required()
        self.idle.pop(self, None)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.transport.resume_reading()
        self._lingering = self.loop.call_later(LINGER_SECONDS, self.transport.close)
