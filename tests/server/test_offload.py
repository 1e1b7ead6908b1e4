"""Store work runs in a pool thread, off the event loop; its answer and its error come back."""

from __future__ import annotations

import asyncio
import threading

import pytest

from leasecheck.reference_server.offload import Offload


def test_runs_in_another_thread_and_returns_or_raises() -> None:
    offload = Offload(threads=2)

    def where(x: int) -> tuple[int, int]:
        return threading.get_ident(), x * 2

    def refuse() -> None:
        raise ValueError("refused")

    async def main() -> tuple[int, int]:
        result = await offload(where, 21)
        with pytest.raises(ValueError, match="refused"):
            await offload(refuse)
        return result

    ident, doubled = asyncio.run(main())
    assert doubled == 42
    assert ident != threading.get_ident()
