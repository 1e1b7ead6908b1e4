"""One recorded exchange as a reader needs it: a curl line to replay, bodies to read.

results.json keeps bodies as the text that went over the wire (redacted), so a
JSON body is one escaped line there. Here it is parsed and indented when it is
JSON, and shown as it was otherwise. The request becomes a curl command that
sends the same bytes; secrets stay exactly as results.json has them
(`Authorization: License [REDACTED]`, `llt_…#3fa2c1d0`): the reader puts in
their own key, the page never holds one.
"""

from __future__ import annotations

import json
import re
import shlex
import unicodedata
from dataclasses import dataclass, field
from typing import Any

#: Headers curl computes itself; sending the recorded value would be wrong or redundant.
_CURL_SETS = {"content-length", "host", "accept-encoding", "connection", "user-agent"}
#: Exchange.evidence cuts bodies at this many bytes before redaction.
RECORDED_BODY_LIMIT = 4000


@dataclass(frozen=True)
class Body:
    """A body for display: `kind` is "json" (indented), "text" (as sent) or "empty"."""

    text: str
    kind: str
    note: str = ""  # why a body that looks like JSON is shown raw, or that it was cut


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


#: A JSON object or array whose one-line form fits in this many characters stays on one line.
FLAT_WIDTH = 100


def _dumps(value: Any) -> str:
    """json.dumps that keeps readable text (é, 日本語, 😀) but escapes what a reader could not
    see: line/paragraph separators, format and private-use characters, odd spaces."""
    return _NON_ASCII_BMP.sub(_escape_invisible, json.dumps(value, ensure_ascii=False))


#: Categories a reader cannot see: line/paragraph separators, spaces, format, private use, control.
INVISIBLE_CATEGORIES = frozenset({"Zl", "Zp", "Zs", "Cf", "Co", "Cc"})
#: Where such characters may be (below U+0080 json.dumps escapes the controls itself). Only
#: the characters a body holds are looked up: one class of every invisible character of the
#: plane took 65,536 look-ups and a 2,000-member regex at every run's import (0.1-0.3 s CPU).
_NON_ASCII_BMP = re.compile("[\u0080-\uffff]")


def _escape_invisible(m: re.Match[str]) -> str:
    c = m.group(0)
    return f"\\u{ord(c):04x}" if unicodedata.category(c) in INVISIBLE_CATEGORIES else c


def pretty_json(value: Any, indent: int = 0) -> str:
    """Indented JSON that keeps small objects and arrays on one line (`{"code": "x", "enabled": true}`):
    a reader sees structure without scrolling through one short value per line."""
    flat = _dumps(value)
    if not isinstance(value, (dict, list)) or not value or indent + len(flat) <= FLAT_WIDTH:
        return flat
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{inner}{_dumps(k)}: {pretty_json(v, indent + 2).lstrip()}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + pretty_json(v, indent + 2).lstrip() for v in value]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def display_body(body: Any) -> Body:
    """Indent JSON so a reader can read it; anything else (or JSON that parsing would
    change, such as duplicate keys) is shown exactly as recorded."""
    if body is None or body == "":
        return Body("", "empty")
    if not isinstance(body, str):  # already parsed by whoever wrote results.json
        return Body(pretty_json(body), "json")
    try:
        parsed = json.loads(body, object_pairs_hook=_reject_duplicates)
    except ValueError:
        note = ""
        if len(body.encode("utf-8")) >= RECORDED_BODY_LIMIT:
            note = f"the recorder keeps the first {RECORDED_BODY_LIMIT} bytes of a body; the rest was not recorded"
        elif body.lstrip()[:1] in ("{", "["):
            note = "not valid JSON (or JSON with duplicate keys): shown exactly as received"
        return Body(body, "text", note)
    if not isinstance(parsed, (dict, list)):
        return Body(body, "text")
    return Body(pretty_json(parsed), "json")


def curl_command(base_url: str, request: dict[str, Any]) -> str:
    """A shell command that sends the recorded request again, one option per line.

    The body is passed byte for byte (`--data-raw`), not re-indented: whitespace
    can matter to the server (an idempotency key bound to a body, a signature).
    """
    method = str(request.get("method", "GET")).upper()
    url = base_url.rstrip("/") + str(request.get("path", "/"))
    first = "curl -sS -i"
    if method != "GET" or request.get("body"):
        first += f" -X {method}"
    parts = [f"{first} {shlex.quote(url)}"]
    for name, value in (request.get("headers") or {}).items():
        if name.lower() not in _CURL_SETS:
            parts.append("-H " + shlex.quote(f"{name}: {value}"))
    body = request.get("body")
    if body:
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        parts.append("--data-raw " + shlex.quote(text))
    return " \\\n  ".join(parts)


@dataclass(frozen=True)
class ExchangeView:
    """What the page shows of one exchange."""

    curl: str
    request_line: str
    request_body: Body
    status: int | None
    response_headers: list[str] = field(default_factory=list)
    response_body: Body = Body("", "empty")
    transport_error: str = ""
    elapsed_ms: int | None = None


def view_exchange(base_url: str, exchange: dict[str, Any]) -> ExchangeView:
    """Shape one results.json exchange (`request`, `response`, `transport_error`, times) for the page."""
    req = exchange.get("request") or {}
    resp = exchange.get("response") or None
    sent, received = exchange.get("sent_at"), exchange.get("received_at")
    elapsed = (
        round((received - sent) * 1000)
        if isinstance(sent, (int, float)) and isinstance(received, (int, float))
        else None
    )
    return ExchangeView(
        curl=curl_command(base_url, req),
        request_line=f"{req.get('method', '?')} {req.get('path', '?')}",
        request_body=display_body(req.get("body")),
        status=resp.get("status") if resp else None,
        response_headers=[f"{k}: {v}" for k, v in (resp.get("headers") or {}).items()] if resp else [],
        response_body=display_body(resp.get("body")) if resp else Body("", "empty"),
        transport_error=str(exchange.get("transport_error") or ""),
        elapsed_ms=elapsed,
    )
