"""The server launcher reads the address only from a whole announcement line."""

from __future__ import annotations

import pytest

from leasecheck.core.server_process import _LISTENING

LINE = "leasecheck reference server listening on "


@pytest.mark.parametrize(
    "text",
    [
        LINE + "http://127.0.0.1:",  # caught before the port was written (CI, 451cd61)
        LINE + "http://127.0.0.1:80",  # a port cut short: 80 of 8081
        LINE + "http://127.0.0.1",
    ],
)
def test_a_half_written_announcement_is_not_an_address(text):
    assert _LISTENING.search(text) is None


@pytest.mark.parametrize(
    ("text", "url"),
    [
        (LINE + "http://127.0.0.1:8081\n", "http://127.0.0.1:8081"),
        ("INFO: started\n" + LINE + "http://127.0.0.1:41234\r\nINFO: more\n", "http://127.0.0.1:41234"),
        (LINE + "http://[::1]:5000\n", "http://[::1]:5000"),
    ],
)
def test_a_whole_announcement_gives_the_address(text, url):
    match = _LISTENING.search(text)
    assert match is not None and match.group(1) == url
