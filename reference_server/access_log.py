"""The access log: uvicorn's line, written without the logging machinery.

uvicorn logs every answer through `logging` (a LogRecord, a caller lookup, a
copied record, a formatter, a handler lock and a flushed write per line):
about 6 % of the server's CPU in a conformance run. `AccessLine` takes the
place of uvicorn's access logger on each connection (`connections.py`) and
writes the same text, `INFO:     127.0.0.1:5000 - "POST /path HTTP/1.1" 200 OK`,
to stderr, gathering the lines of one event-loop turn into one write (the
turn's answers are all sent by then; a crash loses at most that turn's lines).

It is used only where uvicorn's access logger would have logged (it has
handlers and INFO enabled), so `--log-level warning` and `access_log=False`
still silence it.
"""

from __future__ import annotations

import asyncio
import http
import logging
import sys
from typing import TextIO

#: uvicorn's level prefix for INFO ("INFO:" padded to nine characters), uncoloured.
PREFIX = "INFO:     "


def _phrases() -> dict[int, str]:
    return {int(s): f"{int(s)} {s.phrase}" for s in http.HTTPStatus}


class AccessLine:
    """Stands in for the `uvicorn.access` logger: `info(fmt, client, method, path, version, status)`."""

    _STATUS = _phrases()

    def __init__(self, loop: asyncio.AbstractEventLoop, stream: TextIO | None = None) -> None:
        self.loop = loop
        self.stream = stream
        self._pending: list[str] = []

    def info(self, _fmt: str, client: str, method: str, path: str, version: str, status: int) -> None:
        """One answer's line, in uvicorn's words; written at the end of this loop turn."""
        status_text = self._STATUS.get(status) or f"{status} "
        if not self._pending:
            self.loop.call_soon(self.flush)
        self._pending.append(f'{PREFIX}{client} - "{method} {path} HTTP/{version}" {status_text}\n')

    def flush(self) -> None:
        lines, self._pending = self._pending, []
        stream = self.stream or sys.stderr
        try:
            stream.write("".join(lines))
            stream.flush()
        except (OSError, ValueError):
            pass  # stderr gone (closed at shutdown): the answers were sent all the same


_LINES: dict[asyncio.AbstractEventLoop, AccessLine] = {}


def access_line(loop: asyncio.AbstractEventLoop) -> AccessLine | None:
    """This loop's `AccessLine`, or None where uvicorn's access logger would log nothing."""
    logger = logging.getLogger("uvicorn.access")
    if not (logger.hasHandlers() and logger.isEnabledFor(logging.INFO)):
        return None
    line = _LINES.get(loop)
    if line is None:
        line = _LINES[loop] = AccessLine(loop)
    return line
