"""The server launcher reads the address only from a whole announcement line."""

from __future__ import annotations

import time

import pytest

from leasecheck.core.server_process import _LISTENING, ReferenceServer, ServerStartError

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


#: A stand-in server (run as `python -m slowsay serve ...`): it listens and answers
#: /readyz, but writes its announcement in two parts, the port only once the test has
#: seen the first part and opened the gate.
SLOW_SAY = """
import http.server, os, sys, threading
port_flag = sys.argv.index("--port") + 1
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[port_flag])), type("H", (http.server.BaseHTTPRequestHandler,), {
    "do_GET": lambda self: (self.send_response(200), self.end_headers()),
    "log_message": lambda self, *a: None,
}))
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdout.write("leasecheck reference server listening on http://127.0.0.1:")
sys.stdout.flush()
gate = os.environ["SLOW_SAY_GATE"]
while not os.path.exists(gate):
    threading.Event().wait(0.01)
sys.stdout.write(f"{server.server_port}\\n")
sys.stdout.flush()
threading.Event().wait()
"""


def test_the_launcher_waits_for_the_rest_of_a_line_written_in_two_parts(tmp_path):
    (tmp_path / "slowsay.py").write_text(SLOW_SAY)
    gate = tmp_path / "gate"
    env = {"PYTHONPATH": str(tmp_path), "SLOW_SAY_GATE": str(gate)}
    srv = ReferenceServer(module="slowsay", env=env, ready_timeout=20.0)
    try:
        srv.launch()
        deadline = time.monotonic() + 20.0
        while "http://127.0.0.1:" not in srv.log_text():  # the first part is out
            assert time.monotonic() < deadline, srv.log_text()
            time.sleep(0.01)
        with pytest.raises(ServerStartError, match="did not listen"):
            srv._wait_for_listening(0, time.monotonic() + 0.3)  # the half line is no address
        gate.touch()
        srv.wait_ready()
        assert srv.base_url is not None and srv.port is not None
        assert srv.base_url == f"http://127.0.0.1:{srv.port}" and srv.port > 0
    finally:
        srv.close()
