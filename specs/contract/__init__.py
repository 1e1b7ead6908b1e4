"""Our spec against the official contract: every difference, and whether it is allowed.

Vendors' customers reach servers through LicenseKit's official SDKs, which are
generated from the published OpenAPI contract. A verdict of this suite only
means something to them if `specs/openapi.yaml` never contradicts that
contract. This module compares the two, operation by operation (matched by
method and path): operation ids, security scheme names and definitions,
scopes, parameters and headers with their required-ness, request bodies,
documented statuses, response headers, and every request and response schema
down to types, nullability, formats, enums, bounds and required fields.

Each difference is a typed `Difference` with a severity (see
`model.Severity`); ours may be stricter only where
`requirements.yaml` says why (`allow`). `check()` is what
`leasecheck spec contract-check FILE` runs: it prints every difference and
returns the exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .allow import Allowance, apply, read_allowances
from .load import Document, Operation, load
from .model import ContractError, Difference, Kind, Severity
from .schema import compare_schemas

__all__ = ["ContractError", "Difference", "Kind", "Severity", "check", "compare", "differences", "render"]

#: Headers OpenAPI describes elsewhere (content negotiation, security): ignored as parameters.
_IMPLICIT_HEADERS = {"accept", "content-type", "authorization"}
_JSON = "application/json"
_SCHEME_FIELDS = ("type", "in", "name", "scheme", "bearerFormat")

_Emit = Callable[[Kind, Severity, str, str | None, str | None, str], None]


def _media(name: str) -> str:
    return name.split(";", 1)[0].strip().lower()


class _Pair:
    """One operation of ours and the contract's operation at the same method and path."""

    def __init__(self, ours: Document, theirs: Document, o: Operation, t: Operation, out: list[Difference]) -> None:
        self.ours, self.theirs, self.o, self.t = ours, theirs, o, t
        label, op_id = o.label, t.operation_id or o.operation_id

        def emit(kind: Kind, sev: Severity, where: str, ours_v: str | None, theirs_v: str | None, note: str) -> None:
            out.append(Difference(label, op_id, where or "/", kind, sev, ours_v, theirs_v, note))

        self.emit: _Emit = emit

    def run(self) -> None:
        o_id, t_id = self.o.operation_id, self.t.operation_id
        if o_id != t_id and t_id is not None:
            self.emit(Kind.OPERATION_ID, Severity.CONTRADICTION, "/operationId", o_id, t_id, "operation ids differ")
        self._security()
        self._scopes()
        self._parameters()
        self._request_body()
        self._responses()

    # ------------------------------------------------------------------ security
    def _security(self) -> None:
        o_req = [sorted(r) for r in self.ours.security(self.o) if isinstance(r, dict)]
        t_req = [sorted(r) for r in self.theirs.security(self.t) if isinstance(r, dict)]
        if sorted(o_req) != sorted(t_req):
            self.emit(
                Kind.SECURITY,
                Severity.CONTRADICTION,
                "/security",
                _alts(o_req),
                _alts(t_req),
                "security scheme names differ",
            )
        o_names = [n for r in o_req for n in r]
        t_names = [n for r in t_req for n in r]
        o_defs, t_defs = self.ours.security_schemes(), self.theirs.security_schemes()
        for o_name, t_name in zip(o_names, t_names, strict=False):
            o_def, t_def = self.ours.resolve(o_defs.get(o_name)), self.theirs.resolve(t_defs.get(t_name))
            where = f"/security/{o_name}"
            if not isinstance(o_def, dict) or not isinstance(t_def, dict):
                missing = "ours" if not isinstance(o_def, dict) else "theirs"
                self.emit(
                    Kind.SECURITY_SCHEME,
                    Severity.CONTRADICTION,
                    where,
                    o_name,
                    t_name,
                    f"{missing} does not define the scheme",
                )
                continue
            for f in _SCHEME_FIELDS:
                ov, tv = o_def.get(f), t_def.get(f)
                if f in ("scheme", "in") and isinstance(ov, str) and isinstance(tv, str):
                    ov, tv = ov.lower(), tv.lower()
                if ov != tv:
                    self.emit(
                        Kind.SECURITY_SCHEME,
                        Severity.CONTRADICTION,
                        f"{where}/{f}",
                        _s(ov),
                        _s(tv),
                        f"scheme {f} differs",
                    )

    def _scopes(self) -> None:
        o_sc, t_sc = self.o.node.get("x-required-scopes"), self.t.node.get("x-required-scopes")
        if o_sc == t_sc or t_sc is None:
            return
        if o_sc is None:
            self.emit(
                Kind.SCOPES,
                Severity.INFO,
                "/x-required-scopes",
                None,
                _s(t_sc),
                "theirs names the scopes; ours does not",
            )
        elif sorted(map(str, o_sc)) != sorted(map(str, t_sc)):
            self.emit(
                Kind.SCOPES, Severity.CONTRADICTION, "/x-required-scopes", _s(o_sc), _s(t_sc), "required scopes differ"
            )

    # ------------------------------------------------------------------ parameters
    def _params(self, doc: Document, op: Operation) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
        """(in, key) -> (display name, parameter); path parameters keyed by position in the template."""
        positions = {name: i for i, name in enumerate(_template_names(op.path))}
        out: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        for raw in list(op.path_item.get("parameters", []) or []) + list(op.node.get("parameters", []) or []):
            p = doc.resolve(raw)
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                continue
            where, name = str(p.get("in")), p["name"]
            if where == "header" and name.lower() in _IMPLICIT_HEADERS:
                continue
            key = (
                f"#{positions[name]}"
                if where == "path" and name in positions
                else name.lower()
                if where == "header"
                else name
            )
            out[(where, key)] = (name, p)
        return out

    def _parameters(self) -> None:
        ours, theirs = self._params(self.ours, self.o), self._params(self.theirs, self.t)
        for key in list(ours) + [k for k in theirs if k not in ours]:
            name = (ours.get(key) or theirs[key])[0]
            at = f"/parameters/{key[0]}/{name}"
            o_p, t_p = (ours[key][1] if key in ours else None), (theirs[key][1] if key in theirs else None)
            if o_p is None or t_p is None:
                side, present = ("ours", o_p) if o_p is not None else ("theirs", t_p)
                required = key[0] == "path" or bool(present and present.get("required"))
                sev = Severity.CONTRADICTION if required else Severity.INFO
                value = _req(required)
                note = f"only {side} " + ("requires" if required else "accepts (optional)") + " this parameter"
                self.emit(Kind.PARAMETER, sev, at, value if o_p else None, value if t_p else None, note)
                continue
            o_req, t_req = bool(o_p.get("required")), bool(t_p.get("required"))
            if o_req and not t_req:
                self.emit(
                    Kind.PARAMETER_REQUIRED,
                    Severity.STRICTER,
                    at,
                    "required",
                    "optional",
                    "ours requires it; theirs does not",
                )
            elif t_req and not o_req:
                self.emit(
                    Kind.PARAMETER_REQUIRED,
                    Severity.CONTRADICTION,
                    at,
                    "optional",
                    "required",
                    "theirs requires it; ours does not",
                )
            compare_schemas(self.ours, _param_schema(o_p), self.theirs, _param_schema(t_p), at, self.emit)

    # ------------------------------------------------------------------ bodies
    def _request_body(self) -> None:
        o_b, t_b = (
            self.ours.resolve(self.o.node.get("requestBody")),
            self.theirs.resolve(self.t.node.get("requestBody")),
        )
        if o_b is None and t_b is None:
            return
        if o_b is None or t_b is None:
            present = o_b if o_b is not None else t_b
            required = isinstance(present, dict) and bool(present.get("required"))
            side = "ours" if o_b is not None else "theirs"
            sev = Severity.CONTRADICTION if required else Severity.INFO
            self.emit(
                Kind.REQUEST_BODY,
                sev,
                "/requestBody",
                "body" if o_b else None,
                "body" if t_b else None,
                f"only {side} describes a request body" + (" (required)" if required else ""),
            )
            return
        o_req, t_req = bool(o_b.get("required")), bool(t_b.get("required"))
        if o_req != t_req:
            sev = Severity.STRICTER if o_req else Severity.CONTRADICTION
            self.emit(
                Kind.REQUEST_BODY_REQUIRED, sev, "/requestBody", _req(o_req), _req(t_req), "body required-ness differs"
            )
        self._content(o_b, t_b, "/requestBody")

    def _content(self, o_r: dict[str, Any], t_r: dict[str, Any], where: str) -> None:
        o_c = {_media(k): v for k, v in _mapping(o_r.get("content")).items()}
        t_c = {_media(k): v for k, v in _mapping(t_r.get("content")).items()}
        if not o_c and not t_c:
            return
        for media in sorted(set(o_c) ^ set(t_c)):
            side = "ours" if media in o_c else "theirs"
            self.emit(
                Kind.MEDIA_TYPE,
                Severity.CONTRADICTION,
                f"{where}/{media}",
                media if media in o_c else None,
                media if media in t_c else None,
                f"only {side} has this media type",
            )
        shared = [m for m in o_c if m in t_c]
        for media in shared:
            at = where if len(shared) == 1 else f"{where}/{media}"
            o_s = _mapping(o_c[media]).get("schema")
            t_s = _mapping(t_c[media]).get("schema")
            if o_s is not None or t_s is not None:
                compare_schemas(self.ours, o_s, self.theirs, t_s, at, self.emit)

    # ------------------------------------------------------------------ responses
    def _responses(self) -> None:
        o_rs = {str(k): v for k, v in _mapping(self.o.node.get("responses")).items()}
        t_rs = {str(k): v for k, v in _mapping(self.t.node.get("responses")).items()}
        for status in list(o_rs) + [s for s in t_rs if s not in o_rs]:
            at = f"/responses/{status}"
            o_r = o_rs[status] if status in o_rs else _covering(o_rs, status)
            t_r = t_rs[status] if status in t_rs else _covering(t_rs, status)
            if o_r is None:
                self.emit(
                    Kind.STATUS, Severity.CONTRADICTION, at, None, status, "theirs documents this status; ours does not"
                )
            elif t_r is None:
                success = status[:1] in "123"
                sev = Severity.CONTRADICTION if success else Severity.INFO
                what = "a success" if success else "an error"
                self.emit(Kind.STATUS, sev, at, status, None, f"ours documents {what} status theirs does not")
            else:
                o_r, t_r = self.ours.resolve(o_r), self.theirs.resolve(t_r)
                if isinstance(o_r, dict) and isinstance(t_r, dict):
                    self._headers(o_r, t_r, at)
                    self._response_content(o_r, t_r, at)

    def _response_content(self, o_r: dict[str, Any], t_r: dict[str, Any], at: str) -> None:
        if bool(o_r.get("content")) != bool(t_r.get("content")):
            side = "ours" if o_r.get("content") else "theirs"
            self.emit(
                Kind.MEDIA_TYPE,
                Severity.CONTRADICTION,
                at,
                "body" if o_r.get("content") else "no body",
                "body" if t_r.get("content") else "no body",
                f"only {side} has a response body",
            )
            return
        self._content(o_r, t_r, at)

    def _headers(self, o_r: dict[str, Any], t_r: dict[str, Any], at: str) -> None:
        o_h = {
            k.lower(): (k, self.ours.resolve(v))
            for k, v in _mapping(o_r.get("headers")).items()
            if k.lower() != "content-type"
        }
        t_h = {
            k.lower(): (k, self.theirs.resolve(v))
            for k, v in _mapping(t_r.get("headers")).items()
            if k.lower() != "content-type"
        }
        for key in list(o_h) + [k for k in t_h if k not in o_h]:
            name = (o_h.get(key) or t_h[key])[0]
            where = f"{at}/headers/{name}"
            o_v, t_v = (o_h[key][1] if key in o_h else None), (t_h[key][1] if key in t_h else None)
            o_req = isinstance(o_v, dict) and bool(o_v.get("required"))
            t_req = isinstance(t_v, dict) and bool(t_v.get("required"))
            if o_v is None or t_v is None:
                side, required = ("ours", o_req) if o_v is not None else ("theirs", t_req)
                sev = Severity.CONTRADICTION if required else Severity.INFO
                self.emit(
                    Kind.HEADER,
                    sev,
                    where,
                    _req(o_req) if o_v is not None else None,
                    _req(t_req) if t_v is not None else None,
                    f"only {side} describes this header",
                )
                continue
            if o_req != t_req:
                sev = Severity.STRICTER if o_req else Severity.CONTRADICTION
                self.emit(Kind.HEADER, sev, where, _req(o_req), _req(t_req), "header required-ness differs")
            if isinstance(o_v, dict) and isinstance(t_v, dict):
                compare_schemas(self.ours, o_v.get("schema"), self.theirs, t_v.get("schema"), where, self.emit)


def _mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a mapping, else empty: a malformed part compares as absent."""
    return value if isinstance(value, dict) else {}


def _covering(responses: dict[str, Any], status: str) -> Any:
    """The range (`4XX`) or `default` response that documents `status`, if any."""
    return responses.get(f"{status[:1]}XX") or responses.get(f"{status[:1]}xx") or responses.get("default")


def _template_names(path: str) -> list[str]:
    out, rest = [], path
    while "{" in rest and "}" in rest:
        start = rest.index("{")
        end = rest.index("}", start)
        out.append(rest[start + 1 : end])
        rest = rest[end + 1 :]
    return out


def _param_schema(p: dict[str, Any]) -> Any:
    if "schema" in p:
        return p["schema"]
    content = _mapping(p.get("content"))
    first = next(iter(content.values()), None)
    return first.get("schema") if isinstance(first, dict) else None


def _alts(requirements: list[list[str]]) -> str:
    if not requirements:
        return "none"
    return " | ".join(" + ".join(r) if r else "anonymous" for r in requirements)


def _req(required: bool) -> str:
    return "required" if required else "optional"


def _s(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


# ------------------------------------------------------------------ public surface


def compare(ours: Document, theirs: Document) -> list[Difference]:
    """Every difference for every operation of `ours`, in document order (no allowances applied)."""
    out: list[Difference] = []
    theirs_ops = theirs.operations()
    for key, o_op in ours.operations().items():
        t_op = theirs_ops.get(key)
        if t_op is None:
            note = "theirs has no operation at this method and path"
            out.append(
                Difference(
                    o_op.label, o_op.operation_id, "/", Kind.OPERATION, Severity.CONTRADICTION, o_op.label, None, note
                )
            )
            continue
        _Pair(ours, theirs, o_op, t_op, out).run()
    return out


def differences(
    ours_path: Path | str, theirs_path: Path | str, requirements_path: Path | str | None = None
) -> list[Difference]:
    """Load both documents, compare them and apply the catalogue's `stricter_than_contract` entries.

    `requirements_path` defaults to `requirements.yaml` beside `ours_path`
    (no allowances when there is none). Raises `ContractError` on bad input.
    """
    ours = load(ours_path, "ours")
    theirs = load(theirs_path, "theirs")
    allowed: list[Allowance] = []
    if requirements_path is not None:
        allowed = read_allowances(Path(requirements_path))
    elif (Path(ours_path).parent / "requirements.yaml").is_file():
        allowed = read_allowances(Path(ours_path).parent / "requirements.yaml")
    try:
        found = compare(ours, theirs)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        if isinstance(exc, ContractError):
            raise
        raise ContractError(f"cannot compare {ours_path} with {theirs_path}: malformed OpenAPI ({exc!r})") from None
    return apply(found, allowed)


_ORDER = {Severity.CONTRADICTION: 0, Severity.STRICTER: 1, Severity.INFO: 3}


def _rank(d: Difference) -> int:
    return _ORDER[d.severity] + (1 if d.severity is Severity.STRICTER and d.explained_by else 0)


def _line(d: Difference) -> str:
    tag = d.severity.value.upper()
    if d.severity is Severity.STRICTER:
        tag = f"STRICTER, explained by {d.explained_by.split(':', 1)[0]}" if d.explained_by else "STRICTER, UNEXPLAINED"
    op = f"{d.operation_id} ({d.operation})" if d.operation_id else d.operation
    values = f"ours {d.ours if d.ours is not None else '-'}, theirs {d.theirs if d.theirs is not None else '-'}"
    return f"{tag}: {op} {d.location}: {d.kind.value}: {values}: {d.note}"


def render(found: list[Difference]) -> str:
    """Every difference on its own line (failing ones first), then a one-line verdict."""
    ordered = sorted(found, key=_rank)  # stable: document order within a rank
    lines = [_line(d) for d in ordered]
    contradictions = sum(d.severity is Severity.CONTRADICTION for d in found)
    stricter = [d for d in found if d.severity is Severity.STRICTER]
    unexplained = sum(d.explained_by is None for d in stricter)
    info = sum(d.severity is Severity.INFO for d in found)
    verdict = "FAIL" if any(d.failing for d in found) else "OK"
    lines.append(
        f"contract check {verdict}: {contradictions} contradictions, {len(stricter)} stricter "
        f"({len(stricter) - unexplained} explained, {unexplained} unexplained), {info} info"
    )
    return "\n".join(lines) + "\n"


def check(
    ours_path: Path | str,
    theirs_path: Path | str,
    *,
    requirements_path: Path | str | None = None,
    out: TextIO | None = None,
) -> int:
    """Print every difference to `out` (stdout); 1 on a contradiction or an unexplained stricter point, else 0.

    Raises `ContractError` (a `ValueError`) with a one-line reason on bad input.
    """
    found = differences(ours_path, theirs_path, requirements_path)
    (out or sys.stdout).write(render(found))
    return 1 if any(d.failing for d in found) else 0
