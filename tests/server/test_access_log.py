"""The access log says what uvicorn's said, one line per answer, without `logging`'s cost."""

from __future__ import annotations

import asyncio
import io
import re

from leasecheck.core.server_process import ReferenceServer
from leasecheck.reference_server.access_log import AccessLine

from .conftest import Wire, wait_until

LINE = re.compile(
    r'^INFO:     127\.0\.0\.1:\d+ - "GET /(health|no-such-route)\?probe=1 HTTP/1\.1" (200 OK|404 Not Found)$'
)


def test_one_line_per_answer_in_uvicorns_words(server: ReferenceServer, wire: type[Wire]) -> None:
    before = len(server.log_text().splitlines())
    assert wire.get(server.base_url or "", "/health?probe=1").status == 200
    assert wire.get(server.base_url or "", "/no-such-route?probe=1").status == 404

    def new_lines() -> list[str]:
        lines = server.log_text().splitlines()[before:]
        return [line for line in lines if "probe=1" in line] if len(lines) >= 2 else []

    lines = wait_until(lambda: len(new_lines()) == 2 and new_lines(), timeout=5)
    assert [bool(LINE.match(line)) for line in lines] == [True, True], lines
    assert lines[0].endswith('"GET /health?probe=1 HTTP/1.1" 200 OK')
    assert lines[1].endswith('"GET /no-such-route?probe=1 HTTP/1.1" 404 Not Found')


def test_lines_of_one_loop_turn_are_one_write_in_order() -> None:
    class CountingStream(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            CountingStream.writes += 1
            return super().write(text)

    stream = CountingStream()

    async def turn() -> None:
        line = AccessLine(asyncio.get_running_loop(), stream)
        line.info("%s", "127.0.0.1:1", "POST", "/a", "1.1", 200)
        line.info("%s", "127.0.0.1:2", "GET", "/b", "1.0", 599)  # no phrase: uvicorn's "599 " as well
        assert stream.getvalue() == ""  # not before the turn ends
        await asyncio.sleep(0)

    asyncio.run(turn())
    assert stream.getvalue() == (
        'INFO:     127.0.0.1:1 - "POST /a HTTP/1.1" 200 OK\nINFO:     127.0.0.1:2 - "GET /b HTTP/1.0" 599 \n'
    )
    assert CountingStream.writes == 1
