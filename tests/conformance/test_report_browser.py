"""report.html as a reader sees it: real runs rendered in headless Chromium.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
NUL-separated JSON on fds 3 and 4), so the test needs no websocket client and no
new dependency, and sets the viewport exactly (1280×800) instead of guessing
what a window size leaves after browser chrome. What it checks is what a
vendor meets: the verdict and the first failure's text in the first viewport,
no box whose content runs past its edge (the old page scrolled both ways and
cut a response off), no links into nowhere, nothing fetched.

Set LEASECHECK_REPORT_SCREENSHOTS=DIR to keep a first-viewport and a
full-page screenshot of every page checked.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leasecheck.conformance.report import render_html
from leasecheck.core.server_process import ReferenceServer
from leasecheck.gallery.process import server as gallery_server

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = (1280, 800)
FAULT = "sign-sorted-keys"  # signs data serialised with sorted keys: SIG-01, SIG-03 and SIG-07 fail
SHOTS = os.environ.get("LEASECHECK_REPORT_SCREENSHOTS")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no browser: Debian's chromium is not at {CHROMIUM} (.ci/run installs it where apt-get works)",
)


# ---------------------------------------------------------------- a small DevTools client
class Chromium:
    """One headless Chromium spoken to over --remote-debugging-pipe, every wait bounded."""

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--remote-debugging-pipe",
    )

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="leasecheck-chromium-")
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()

        def fds() -> None:  # the browser reads commands on fd 3 and writes answers on fd 4
            reads, writes = os.dup(to_browser_r), os.dup(from_browser_w)  # safe even if either is 3 or 4
            os.dup2(reads, 3)
            os.dup2(writes, 4)

        self.proc = subprocess.Popen(
            [str(CHROMIUM), *self.FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(3, 4),  # kept open after preexec_fn put the pipes there
            preexec_fn=fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._w, self._r = to_browser_w, from_browser_r
        self._buf = b""
        self._id = 0
        self._events: list[dict[str, Any]] = []

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)

    def wait_for(self, event: str, session: str) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, e in enumerate(self._events):
                if e.get("method") == event and e.get("sessionId") == session:
                    del self._events[i]
                    return
            self._events.append(self._message(deadline))

    def open(self, path: Path, width: int, height: int) -> str:
        """A tab showing `path` with a viewport of exactly width×height; returns its session."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session)
        self.call(
            "Emulation.setDeviceMetricsOverride", session, width=width, height=height, deviceScaleFactor=1, mobile=False
        )
        self.call("Page.navigate", session, url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired", session)
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, session: str, out: Path, height: int | None = None) -> None:
        """The first viewport, or `height` pixels of the page from the top."""
        params: dict[str, Any] = {"format": "png"}
        if height is not None:
            params |= {
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": VIEWPORT[0], "height": height, "scale": 1},
            }
        out.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", session, **params)["data"]))

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError, TimeoutError, RuntimeError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self._w)
        os.close(self._r)
        shutil.rmtree(self.profile, ignore_errors=True)


# What a reader sees: the verdict, the first finding's "Seen:" line, boxes whose content
# runs past their edge (checked with every <details> open), page-level scrolling, dead links,
# and whether anything was fetched.
PROBE = r"""
(() => {
  const box = el => { if (!el) return null; const r = el.getBoundingClientRect();
    return {text: el.innerText.trim(), top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().replace(/\s+/g, '.') : '') +
    ' "' + el.textContent.trim().slice(0, 60) + '"';
  const out = {viewport: [innerWidth, innerHeight], verdict: box(document.querySelector('#verdict')),
    sentence: box(document.querySelector('.sentence')),
    first_card: box(document.querySelector('section.card')), seen: box(document.querySelector('section.card .seen')),
    first_card_id: (document.querySelector('section.card') || {}).id || null};
  document.querySelectorAll('details').forEach(d => d.open = true);
  const wide = [], cut = [];
  for (const el of document.body.querySelectorAll('*')) {
    const cs = getComputedStyle(el);
    if (cs.display === 'none') continue;
    if (cs.display === 'inline') {
      let b = el.parentElement; while (b && getComputedStyle(b).display === 'inline') b = b.parentElement;
      const r = el.getBoundingClientRect(), p = b.getBoundingClientRect();
      if (r.width && (r.right > p.right + 1 || r.left < p.left - 1)) wide.push(name(el) + ' leaves ' + name(b));
    } else if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      wide.push(name(el) + ` ${el.scrollWidth}px of content in ${el.clientWidth}px`);
    }
    if (el.tagName === 'PRE' && el.scrollHeight > el.clientHeight + 1) cut.push(name(el));
  }
  const root = document.documentElement;
  out.overflowing = wide; out.cut_off = cut;
  out.page_scrolls_sideways = root.scrollWidth > root.clientWidth;
  out.dead_links = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1))
    .filter(id => !document.getElementById(id));
  out.fetched = performance.getEntriesByType('resource').map(e => e.name);
  return out;
})()
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    c = Chromium()
    yield c
    c.close()


def look(browser: Chromium, html: Path, name: str) -> dict[str, Any]:
    """Open the page at 1280×800 and report what a reader sees (screenshots when asked)."""
    session = browser.open(html, *VIEWPORT)
    if SHOTS:
        shots = Path(SHOTS)
        shots.mkdir(parents=True, exist_ok=True)
        browser.screenshot(session, shots / f"{name}-viewport.png")
    seen = browser.evaluate(session, PROBE)
    if SHOTS:
        height = int(browser.evaluate(session, "document.documentElement.scrollHeight"))
        browser.screenshot(session, Path(SHOTS) / f"{name}-page.png", height=height)
    browser.call("Target.closeTarget", targetId=browser.call("Target.getTargetInfo", session)["targetInfo"]["targetId"])
    return seen


# ---------------------------------------------------------------- real runs
def conformance(out: Path, *args: str) -> dict[str, Any]:
    """`leasecheck conformance ... --report-dir out` in a subprocess; its results.json."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    cmd = [sys.executable, "-m", "leasecheck.cli", "conformance", *args, "--report-dir", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert (out / "report.html").is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fault_server() -> Iterator[ReferenceServer]:
    """The one place the failing run's server is started (the fault flag may move)."""
    with gallery_server(fault=FAULT, minute_seconds=60.0) as srv:
        yield srv


@pytest.fixture(scope="module")
def failing_run(fault_server: ReferenceServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("failing")
    assert fault_server.base_url is not None
    results = conformance(
        out,
        "--target",
        fault_server.base_url,
        "--management-token",
        fault_server.management_token,
        "--minute-seconds",
        "60",
        "--only",
        "signatures",
    )
    assert results["outcome"] == "failed", "the fault server should fail the signatures area"
    return results, out / "report.html"


@pytest.fixture(scope="module")
def passing_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("passing")
    results = conformance(out, "--only", "signatures")
    assert results["outcome"] == "passed"
    return results, out / "report.html"


def first_must_failure(results: dict[str, Any]) -> dict[str, Any]:
    failed = [r for r in results["requirements"] if r["outcome"] == "failed" and not r.get("expected_failure")]
    return min(failed, key=lambda r: r["id"])


def assert_readable(seen: dict[str, Any]) -> None:
    assert seen["viewport"] == list(VIEWPORT)
    assert not seen["overflowing"], "content runs past its box:\n" + "\n".join(seen["overflowing"][:20])
    assert not seen["cut_off"], f"boxes that cut their content off: {seen['cut_off'][:10]}"
    assert not seen["page_scrolls_sideways"]
    assert not seen["dead_links"], f"links to anchors that do not exist: {seen['dead_links']}"
    assert seen["fetched"] == [], f"the page fetched {seen['fetched']}"


def in_first_viewport(b: dict[str, Any] | None) -> bool:
    return b is not None and b["top"] >= 0 and b["bottom"] <= VIEWPORT[1] and b["right"] <= VIEWPORT[0]


# ---------------------------------------------------------------- what a reader sees
def test_the_first_failure_is_readable_without_scrolling(browser, failing_run):
    results, html = failing_run
    seen = look(browser, html, "failing")
    first = first_must_failure(results)
    assert in_first_viewport(seen["verdict"]) and seen["verdict"]["text"].startswith("FAILED")
    assert seen["first_card_id"] == first["id"]
    assert in_first_viewport(seen["seen"]), f"the first failure's text is below the fold: {seen['seen']}"
    assert seen["seen"]["text"] == "Seen: " + first["evidence"][0]["message"]
    assert_readable(seen)


def test_a_passing_run_reads_as_passed_and_nothing_overflows(browser, passing_run):
    results, html = passing_run
    seen = look(browser, html, "passing")
    assert in_first_viewport(seen["verdict"]) and seen["verdict"]["text"].startswith("PASSED")
    warnings = sorted(r["id"] for r in results["requirements"] if r["outcome"] == "warning")
    if warnings:  # e.g. SIG-08 on the bundled server: the warning is the first thing to read
        assert seen["first_card_id"] == warnings[0] and in_first_viewport(seen["seen"])
    assert_readable(seen)


def test_an_excused_failure_says_so_in_the_first_viewport(browser, failing_run, tmp_path):
    results, _ = failing_run
    excused = copy.deepcopy(results)
    for r in excused["requirements"]:
        if r["outcome"] == "failed":
            r["expected_failure"] = "vendor ticket LK-123"
    excused["outcome"] = "passed"
    page = tmp_path / "excused.html"
    page.write_text(render_html(excused), encoding="utf-8")
    seen = look(browser, page, "excused")
    n = sum(1 for r in excused["requirements"] if r.get("expected_failure"))
    assert seen["verdict"]["text"].startswith("PASSED") and f"{n} excused failure" in seen["verdict"]["text"]
    assert in_first_viewport(seen["sentence"]) and "passes only because" in seen["sentence"]["text"]
    assert in_first_viewport(seen["seen"])
    assert_readable(seen)


def test_the_official_sdks_table_keeps_the_first_failure_in_view(browser, failing_run, tmp_path):
    results, _ = failing_run
    with_interop = dict(results)
    why = "signature by 'lk-1' does not verify over data serialised as the SDKs do (BadSignatureError)"
    with_interop["interop"] = {
        "sdks": [
            {"sdk": sdk, "label": label, "verified": 0, "failed": 12, "failed_non_ascii_only": 0, "ok": False,
             "verdict": "12 of 12 signed answers do not verify",
             "examples": [{"answer": "POST /api/v1/license/floating/checkout -> 200", "why": why}] * 5}
            for sdk, label in (("typescript", "TypeScript SDK (@licensekit/sdk)"), ("ruby", "Ruby SDK (licensekit-ruby)"),
                               ("python", "Python SDK (licensekit-sdk)"))
        ],
        "non_ascii_answers": 3,
    }  # fmt: skip
    page = tmp_path / "interop.html"
    page.write_text(render_html(with_interop), encoding="utf-8")
    seen = look(browser, page, "failing-with-sdks")
    assert in_first_viewport(seen["seen"]), f"the SDK table pushed the first failure below the fold: {seen['seen']}"
    assert_readable(seen)


def test_the_probe_sees_a_box_that_scrolls_sideways(browser, tmp_path):
    """The overflow check can fail: a <pre> that does not wrap is caught."""
    page = tmp_path / "wide.html"
    page.write_text(f"<!doctype html><body><pre style='white-space:pre;overflow:auto;width:300px'>{'x' * 400}</pre>")
    seen = look(browser, page, "probe-self-check")
    assert any(o.startswith("pre") for o in seen["overflowing"])
