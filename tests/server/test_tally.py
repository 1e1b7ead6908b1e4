"""Tally (reference_server/tally.py): a burst of one event is one line now and
one summary line per interval, on a real event loop."""

from __future__ import annotations

import asyncio
import logging

from leasecheck.reference_server.tally import Tally

INTERVAL = 0.2


async def _burst(tally: Tally, count: int) -> None:
    loop = asyncio.get_running_loop()
    for i in range(count):
        tally.record(loop, f"event {i}")
    done = loop.create_future()
    # Two intervals: the summary of the burst, then a quiet one that ends the window.
    loop.call_later(INTERVAL * 2.5, done.set_result, None)
    await done


def test_a_burst_is_two_lines_and_the_next_burst_starts_afresh(caplog):
    logger = logging.getLogger("leasecheck.test.tally")
    tally = Tally(logger, "accept() failed", interval=INTERVAL)
    with caplog.at_level(logging.WARNING, logger=logger.name):
        asyncio.run(_burst(tally, 1000))
        first = [r.getMessage() for r in caplog.records]
        caplog.clear()
        asyncio.run(_burst(tally, 1))
        second = [r.getMessage() for r in caplog.records]
    assert first == [
        "accept() failed: event 0 (repeats are counted, one line per 0.2 s)",
        "accept() failed: 999 more in the last 0.2 s (latest: event 999)",
    ]
    assert second == ["accept() failed: event 0 (repeats are counted, one line per 0.2 s)"]
    assert tally.total == 1001
