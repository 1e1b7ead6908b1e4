"""/metrics (reference_server/metrics.py): what requests a client makes up cannot grow it."""

from __future__ import annotations

import re
import uuid


def _count(text: str, method: str, status: int) -> int:
    found = re.search(
        rf'^leasecheck_requests_total\{{route="/health",method="{method}",status="{status}"\}} (\d+)$', text, re.M
    )
    return int(found.group(1)) if found else 0


def test_made_up_methods_share_one_counter(server, wire):
    # Each made-up method used to add a counter line of its own, kept for the life of the worker.
    made_up = [f"X{uuid.uuid4().hex}" for _ in range(20)]
    for method in [*made_up, "DELETE"]:
        with wire.connect(server.base_url) as sock:
            sock.sendall(f"{method} /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
            assert wire.parse(wire.read_to_close(sock, 5.0)).status == 405
    text = wire.get(server.base_url, "/metrics").raw.decode()
    assert not any(method in text for method in made_up)
    assert _count(text, "other", 405) >= len(made_up)
    assert _count(text, "DELETE", 405) >= 1  # the methods HTTP defines keep their own label
