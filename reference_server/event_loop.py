"""The event loop each server process runs: asyncio's, with accept errors tallied.

When `accept()` fails for want of descriptors (EMFILE, ENFILE, ENOBUFS,
ENOMEM), asyncio (3.11) reports it through the loop's exception handler with
a traceback, once per connection waiting in the backlog, and retries a
second later: that is the flood of "Too many open files" that grew stderr by
~127 MB in 35 s. Here those reports are tallied (one line per interval with a
count); every other report goes to asyncio's default handler unchanged.

The connection bound (connections.py) keeps a worker below its descriptor
limit, but it acts when a connection is made, after `accept()`; asyncio
accepts up to the listen backlog (2048) connections in one go before any of
them is made, which takes the descriptors the bound meant to keep free. So
this loop accepts at most `ACCEPTS_PER_TICK` per turn (the listen queue keeps
its length; waiting connections are taken on the next turns, microseconds
apart), and the bound can act between batches. This overrides asyncio's
private `_accept_connection`, only to pass it a smaller count.

uvicorn loads the factory by name: `Config(loop="...event_loop:new_event_loop")`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .tally import Tally

ACCEPT_OUT_OF_RESOURCES = "socket.accept() out of system resource"

ACCEPT_ERRORS = Tally(logging.getLogger("leasecheck.reference_server"), "accept() failed")


def handle_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Tally accept errors; hand everything else to asyncio's default handler."""
    if context.get("message") == ACCEPT_OUT_OF_RESOURCES:
        exc = context.get("exception")
        ACCEPT_ERRORS.record(loop, str(exc) if exc is not None else ACCEPT_OUT_OF_RESOURCES)
        return
    loop.default_exception_handler(context)


ACCEPTS_PER_TICK = 16


class ServerEventLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop, accepting at most `ACCEPTS_PER_TICK` connections per turn."""

    def _accept_connection(
        self,
        protocol_factory: Any,
        sock: Any,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *rest: Any,
    ) -> None:
        super()._accept_connection(  # type: ignore[misc]
            protocol_factory, sock, sslcontext, server, min(backlog, ACCEPTS_PER_TICK), *rest
        )


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A `ServerEventLoop` with `handle_exception` installed."""
    loop = ServerEventLoop()
    loop.set_exception_handler(handle_exception)
    return loop
