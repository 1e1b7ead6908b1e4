"""What every answer must look like, checked the same way everywhere.

`Inspector.inspect(exchange)` returns findings against the universal
requirements (schemas, error envelopes, documented statuses, signatures,
timestamps). Conformance attributes them to requirement IDs; load runs can
sample them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leasecheck.specs import openapi
from leasecheck.specs.validate import is_valid, validator

from .client import Exchange
from .interop import NON_ASCII_WHY, Interop
from .replays import RepeatedKeys
from .signing import SDKS, KeyRing, SignatureError, is_ascii_data
from .timeutil import is_rfc3339

ALWAYS_ALLOWED = {429, 503}
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
RUNTIME_OPS = ("checkout", "heartbeat", "checkin")
#: What `Inspector.inspect` judges on the answers of any run, whatever its scenarios
#: (success and error answers, signed data of ASCII text). SIG-03 is not here: it
#: needs signed data holding non-ASCII text, which only some scenarios provoke.
EVERY_ANSWER = frozenset(
    {"ENV-01", "ENV-02", "ENV-03", "ENV-04", "ENV-05", "TIME-05", "SIG-01", "SIG-02", "SIG-06", "SIG-07", "SIG-08"}
)


@dataclass(frozen=True)
class Finding:
    requirement: str
    ok: bool
    message: str


def _component(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


Routes = dict[tuple[str, str], dict[str, Any]]


def operation_index() -> Routes:
    """(METHOD, path template) -> OpenAPI operation, for every operation of the spec."""
    routes = {}
    for path, item in openapi()["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                routes[(method.upper(), path)] = op
    return routes


def find_operation(routes: Routes, method: str, path: str) -> dict[str, Any] | None:
    """The operation a request went to (templates like /licenses/{id}/revoke match), or None."""
    path = path.split("?", 1)[0]
    op = routes.get((method, path))
    if op is not None:
        return op
    for (m, templ), candidate in routes.items():
        if m == method and "{" in templ:
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", templ) + "$"
            if re.match(pattern, path):
                return candidate
    return None


class Inspector:
    """Validates answers against the OpenAPI document's response schemas."""

    def __init__(
        self, keyring: KeyRing, refresh_keys: Callable[[], None] | None = None, interop: Interop | None = None
    ) -> None:
        self.keyring = keyring
        self.refresh_keys = refresh_keys
        #: Every signed answer checked under each official SDK's byte rule (SIG-07, SIG-08).
        self.interop = interop if interop is not None else Interop()
        self._routes = operation_index()
        self._request_ids: set[str] = set()
        #: A request repeating a key may get the stored bytes, request id included (replays.py).
        self._repeats = RepeatedKeys()

    def _operation(self, ex: Exchange) -> dict[str, Any] | None:
        return find_operation(self._routes, ex.method, ex.path)

    def inspect(self, ex: Exchange) -> list[Finding]:
        if ex.status is None:
            return []
        out: list[Finding] = []
        op = self._operation(ex)
        body = ex.json
        ref: str | None = None
        is_json = "json" in (ex.header("content-type") or "")
        if op is not None:
            responses = op.get("responses", {})
            documented = {int(s) for s in responses if s.isdigit()}
            if ex.status not in documented and ex.status not in ALWAYS_ALLOWED:
                out.append(
                    Finding(
                        "ENV-04",
                        False,
                        f"{ex.describe()}: status {ex.status} is not documented for {op.get('operationId')} (documented: {sorted(documented)})",
                    )
                )
            else:
                out.append(Finding("ENV-04", True, ""))
            resp = responses.get(str(ex.status))
            if resp:
                content = resp.get("content", {}).get("application/json", {})
                ref = content.get("schema", {}).get("$ref")
            if ref and body is not None:
                valid = is_valid(body, _component(ref))  # fast for the valid answers nearly all are
                errors = (
                    [] if valid else sorted(validator(_component(ref)).iter_errors(body), key=lambda e: list(e.path))
                )
                if errors:
                    e = errors[0]
                    where = "/".join(str(p) for p in e.absolute_path) or "(root)"
                    out.append(
                        Finding("ENV-01", False, f"{ex.describe()}: {_component(ref)} invalid at {where}: {e.message}")
                    )
                else:
                    out.append(Finding("ENV-01", True, ""))
            elif ref and body is None and ex.status != 204:
                out.append(Finding("ENV-01", False, f"{ex.describe()}: body is not JSON"))
        # ENV-02 applies unless the spec documents another body for this status
        # (readyz answers 503 with a ReadyEnvelope, not an error envelope).
        documents_other = ref is not None and _component(ref) != "ErrorEnvelope"
        if ex.status >= 400 and not documents_other and (op is not None or ex.path.startswith("/api/")):
            if not (
                isinstance(body, dict)
                and isinstance(body.get("error"), dict)
                and isinstance(body["error"].get("code"), str)
                and isinstance(body["error"].get("message"), str)
                and isinstance(body.get("meta"), dict)
                and isinstance(body["meta"].get("request_id"), str)
            ):
                out.append(
                    Finding(
                        "ENV-02",
                        False,
                        f"{ex.describe()}: not an error envelope (error.code, error.message, meta.request_id)",
                    )
                )
            else:
                out.append(Finding("ENV-02", True, ""))
                code = body["error"]["code"]
                out.append(
                    Finding(
                        "ENV-03",
                        bool(_UPPER_SNAKE.match(code)),
                        f"{ex.describe()}: error.code {code!r} is not UPPER_SNAKE_CASE",
                    )
                )
        if isinstance(body, dict) and isinstance(body.get("meta"), dict):
            rid = body["meta"].get("request_id")
            if isinstance(rid, str) and not self._repeats.may_be_replay(ex):
                dup = rid in self._request_ids
                self._request_ids.add(rid)
                out.append(Finding("ENV-05", not dup, f"{ex.describe()}: meta.request_id {rid!r} was used before"))
            ts = body["meta"].get("timestamp")
            if ts is not None:
                out.append(
                    Finding("TIME-05", is_rfc3339(ts), f"{ex.describe()}: meta.timestamp {ts!r} is not RFC 3339")
                )
        if ex.operation in RUNTIME_OPS and ex.ok and is_json:
            out.extend(self._signature(ex, body))
        return out

    def _signature(self, ex: Exchange, body: Any) -> list[Finding]:
        if not isinstance(body, dict):
            return [Finding("SIG-01", False, f"{ex.describe()}: 2xx answer is not a JSON object")]
        data = body.get("data")
        out = []
        if isinstance(data, dict):
            for f in ("issued_at", "lease_expires_at", "expires_at"):
                if f in data and data[f] is not None:
                    out.append(
                        Finding(
                            "TIME-05", is_rfc3339(data[f]), f"{ex.describe()}: data.{f} {data[f]!r} is not RFC 3339"
                        )
                    )
        sig = body.get("signature")
        kid = sig.get("kid") if isinstance(sig, dict) else None
        if isinstance(kid, str) and kid not in self.keyring and self.refresh_keys is not None:
            self.refresh_keys()
        if isinstance(kid, str) and kid not in self.keyring:
            out.append(
                Finding(
                    "SIG-02",
                    False,
                    f"{ex.describe()}: signature.kid {kid!r} is not published at /api/v1/system/public-keys",
                )
            )
        elif isinstance(kid, str):
            out.append(Finding("SIG-02", True, ""))
            key = self.keyring.get(kid)
            if key is not None:
                out.append(
                    Finding(
                        "SIG-06",
                        key.status == "active",
                        f"{ex.describe()}: signed with key {kid!r} whose status is {key.status!r}",
                    )
                )
        results = None
        if isinstance(body.get("signature"), dict) and "data" in body:
            results = self.interop.observe(ex.describe(), body, self.keyring)
            out.extend(self._interop(ex, data, results))
        # SIG-01 is the TypeScript/Ruby rule: interop has just checked it (once per answer).
        why = results["typescript"] if results is not None else _why_not(self.keyring, body)
        if why is None:
            out.append(Finding("SIG-01", True, ""))
            if _has_awkward_text(data):
                out.append(Finding("SIG-03", True, "verified over data holding non-ASCII or HTML-special text"))
        else:
            out.append(Finding("SIG-01", False, f"{ex.describe()}: {why}"))
            if _has_awkward_text(data):
                out.append(Finding("SIG-03", False, f"{ex.describe()}: data with non-ASCII/HTML-special text: {why}"))
        return out

    def _interop(self, ex: Exchange, data: Any, results: dict[str, str | None]) -> list[Finding]:
        """SIG-07: ASCII-only data verifies under all three SDKs' rules (MUST).
        SIG-08: data holding non-ASCII text cannot verify in the Python SDK (SHOULD)."""
        if is_ascii_data(data):
            failing = [f"{SDKS[sdk]}: {why}" for sdk, why in results.items() if why is not None]
            return [
                Finding("SIG-07", not failing, f"{ex.describe()}: ASCII-only data; " + "; ".join(failing)),
                Finding("SIG-08", True, ""),
            ]
        if results["typescript"] is None and results["ruby"] is None:
            return [Finding("SIG-08", False, f"{ex.describe()}: {NON_ASCII_WHY}")]
        return []


def _why_not(keyring: KeyRing, body: dict[str, Any]) -> str | None:
    """None when the answer verifies under the TypeScript/Ruby rule, else why not."""
    try:
        keyring.verify(body)
    except SignatureError as exc:
        return str(exc)
    return None


#: Text the SDKs' serialisers treat differently (SIG-03): non-ASCII, or HTML-special.
_AWKWARD = re.compile(r"[^\x00-\x7f]|[<>&]")


def _has_awkward_text(value: Any) -> bool:
    if isinstance(value, str):
        return _AWKWARD.search(value) is not None
    if isinstance(value, dict):
        return any(_has_awkward_text(k) or _has_awkward_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_awkward_text(v) for v in value)
    return False
