"""Comparing two JSON Schemas (OpenAPI 3.x flavours) by what they let through.

The two documents spell the same thing differently: `type: [string, 'null']`
or `nullable: true` or `oneOf: [{$ref}, {type: 'null'}]`; `const` or a
one-value `enum`; a `$ref` to a component or the same schema inline; `allOf`
to combine. So each schema is first flattened into a `Shape` (types with
null, format, enum, bounds, properties, required, additional properties,
items) and shapes are compared aspect by aspect.

The rule for every aspect is the same, in requests and in responses alike:
when ours admits a subset of what theirs admits for a value both describe,
ours is `stricter`; when ours admits something theirs does not, or leaves out
a field or constraint theirs requires, that is a `contradiction`. A field
only one side describes, where the other leaves room for it, is `info`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .load import Document
from .model import Kind, Severity

__all__ = ["Emit", "Shape", "compare_schemas", "shape"]

#: emit(kind, severity, location, ours, theirs, note)
Emit = Callable[[Kind, Severity, str, str | None, str | None, str], None]

_ANNOTATIONS = {"description", "title", "example", "examples", "deprecated", "readOnly", "writeOnly", "$comment"}
_LOWER = {"minLength": Kind.MIN_LENGTH, "minimum": Kind.MINIMUM, "minItems": Kind.MIN_ITEMS}
_UPPER = {"maxLength": Kind.MAX_LENGTH, "maximum": Kind.MAXIMUM, "maxItems": Kind.MAX_ITEMS}
#: Numeric width formats, narrowest first: they annotate more than they restrict.
_WIDTHS = (("int32", "int64"), ("float", "double"))
_MAX_DEPTH = 40


@dataclass
class Shape:
    """What a schema admits, flattened. `types` None means any type; "null" is a type like the others."""

    types: frozenset[str] | None = None
    format: str | None = None
    enum: tuple[Any, ...] | None = None  # null excluded: it lives in `types`
    properties: dict[str, Any] = field(default_factory=dict)  # name -> raw schema node
    required: frozenset[str] = frozenset()
    additional: Any = True  # True (anything), False (nothing), or a raw schema node
    items: Any = None
    bounds: dict[str, Any] = field(default_factory=dict)  # minLength, maximum, pattern, ...
    composite: bool = False  # a oneOf/anyOf of several non-null branches: compared by type only

    def may_be(self, json_type: str) -> bool:
        return self.types is None or json_type in self.types or (json_type == "number" and "integer" in self.types)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _intersect_types(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None or b is None:
        return b if a is None else a
    out = a & b
    if ("integer" in a and "number" in b) or ("number" in a and "integer" in b):
        out |= {"integer"}
    return frozenset(out)


def _all_of(a: Any, b: Any) -> Any:
    return {"allOf": [a, b]}


def _merge(a: Shape, b: Shape) -> Shape:
    """Both at once (allOf)."""
    enum = a.enum
    if a.enum is not None and b.enum is not None:
        keep = {_key(v) for v in b.enum}
        enum = tuple(v for v in a.enum if _key(v) in keep)
    elif enum is None:
        enum = b.enum
    props = dict(a.properties)
    for name, node in b.properties.items():
        props[name] = _all_of(props[name], node) if name in props else node
    if a.additional is False or b.additional is False:
        additional: Any = False
    elif a.additional is True:
        additional = b.additional
    else:
        additional = a.additional if b.additional is True else _all_of(a.additional, b.additional)
    bounds = dict(a.bounds)
    for name, value in b.bounds.items():
        if name not in bounds:
            bounds[name] = value
        elif name in _LOWER or name == "exclusiveMinimum":
            bounds[name] = max(bounds[name], value)
        elif name in _UPPER or name == "exclusiveMaximum":
            bounds[name] = min(bounds[name], value)
    return Shape(
        types=_intersect_types(a.types, b.types),
        format=a.format or b.format,
        enum=enum,
        properties=props,
        required=a.required | b.required,
        additional=additional,
        items=a.items if b.items is None else b.items if a.items is None else _all_of(a.items, b.items),
        bounds=bounds,
        composite=a.composite or b.composite,
    )


def _union(shapes: list[Shape]) -> Shape:
    """Any one of them (oneOf/anyOf with several real branches): only the types are kept."""
    types: frozenset[str] | None = frozenset()
    for s in shapes:
        types = None if types is None or s.types is None else types | s.types
    return Shape(types=types, composite=True)


def _own(node: dict[str, Any]) -> Shape:
    """The shape of `node`'s own keywords (no allOf/oneOf/anyOf)."""
    raw_type = node.get("type")
    types = None if raw_type is None else frozenset([raw_type] if isinstance(raw_type, str) else raw_type)
    enum: tuple[Any, ...] | None = None
    if "const" in node:
        enum = (node["const"],)
    elif isinstance(node.get("enum"), list):
        enum = tuple(node["enum"])
    if enum is not None:
        enum_types = frozenset(_json_type(v) for v in enum)
        types = enum_types if types is None else _intersect_types(types, enum_types)
        enum = tuple(v for v in enum if v is not None) or None
    bounds = {k: node[k] for k in (*_LOWER, *_UPPER, "pattern") if k in node}
    for k in ("exclusiveMinimum", "exclusiveMaximum"):
        value = node.get(k)
        if isinstance(value, bool):  # OpenAPI 3.0: a flag on minimum/maximum
            plain = "minimum" if k == "exclusiveMinimum" else "maximum"
            if value and plain in bounds:
                bounds[k] = bounds.pop(plain)
        elif isinstance(value, int | float):
            bounds[k] = value
    for k in ("minLength", "minItems"):
        if bounds.get(k) == 0:
            del bounds[k]
    props = node.get("properties")
    required = node.get("required")
    return Shape(
        types=types,
        format=node.get("format") if isinstance(node.get("format"), str) else None,
        enum=enum,
        properties=dict(props) if isinstance(props, dict) else {},
        required=frozenset(required) if isinstance(required, list) else frozenset(),
        additional=node.get("additionalProperties", True),
        items=node.get("items"),
        bounds=bounds,
    )


def shape(doc: Document, node: Any, depth: int = 0) -> Shape:
    """Flatten `node` (resolving `$ref`s, allOf, oneOf/anyOf and every nullable spelling)."""
    if depth > _MAX_DEPTH:
        return Shape()
    if node is True or node is None:
        return Shape()
    if node is False:
        return Shape(types=frozenset())
    if not isinstance(node, dict):
        return Shape()
    if isinstance(node.get("$ref"), str):
        rest = {k: v for k, v in node.items() if k != "$ref" and k not in _ANNOTATIONS}
        target = shape(doc, doc.resolve({"$ref": node["$ref"]}), depth + 1)
        return _merge(target, shape(doc, rest, depth + 1)) if rest else target
    out = _own(node)
    for branch in node.get("allOf", []) or []:
        out = _merge(out, shape(doc, branch, depth + 1))
    for word in ("oneOf", "anyOf"):
        branches = [shape(doc, b, depth + 1) for b in node.get(word, []) or []]
        if not branches:
            continue
        real = [b for b in branches if b.types != frozenset({"null"})]
        nullable = len(real) < len(branches)
        merged = real[0] if len(real) == 1 else _union(real) if real else Shape(types=frozenset())
        if nullable and merged.types is not None:
            merged.types = merged.types | {"null"}
        if out.types is not None and nullable:  # `type: object` beside `oneOf: [..., null]`
            out.types = out.types | {"null"}
        out = _merge(out, merged)
    if node.get("nullable") is True and out.types is not None:  # OpenAPI 3.0
        out.types = out.types | {"null"}
    return out


# ------------------------------------------------------------------ comparison


def _types_text(types: frozenset[str] | None) -> str:
    if types is None:
        return "any"
    items = sorted(types, key=lambda t: (t == "null", t))
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"


def _subset(ours: frozenset[str], theirs: frozenset[str]) -> bool:
    return all(t in theirs or (t == "integer" and "number" in theirs) for t in ours)


def _values(values: tuple[Any, ...] | None) -> str:
    return "any" if values is None else "[" + ", ".join(json.dumps(v, default=str) for v in values) + "]"


def _short(s: Shape) -> str:
    text = _types_text(s.types)
    return f"{text} ({s.format})" if s.format else text


class _Walker:
    def __init__(self, ours: Document, theirs: Document, emit: Emit) -> None:
        self.ours, self.theirs, self.emit = ours, theirs, emit
        self.stack: set[tuple[int, int]] = set()

    def compare(self, o_node: Any, t_node: Any, where: str, depth: int = 0) -> None:
        pair = (id(o_node), id(t_node))
        if pair in self.stack or depth > _MAX_DEPTH:
            return
        self.stack.add(pair)
        try:
            o, t = shape(self.ours, o_node), shape(self.theirs, t_node)
            self._types(o, t, where)
            if o.composite or t.composite:
                side = "ours" if o.composite else "theirs"
                self.emit(
                    Kind.COMPOSITION,
                    Severity.INFO,
                    where,
                    _short(o),
                    _short(t),
                    f"{side} is a oneOf/anyOf: compared by type only",
                )
                return
            self._format(o, t, where)
            self._enum(o, t, where)
            self._bounds(o, t, where)
            if o.may_be("object") and t.may_be("object"):
                self._object(o, t, where, depth)
            if o.may_be("array") and t.may_be("array"):
                self._items(o, t, where, depth)
        finally:
            self.stack.discard(pair)

    def _types(self, o: Shape, t: Shape, where: str) -> None:
        o_null = o.types is None or "null" in o.types
        t_null = t.types is None or "null" in t.types
        if o_null and not t_null:
            self.emit(
                Kind.NULLABLE,
                Severity.CONTRADICTION,
                where,
                _types_text(o.types),
                _types_text(t.types),
                "ours allows null; theirs is never null",
            )
        elif t_null and not o_null:
            self.emit(
                Kind.NULLABLE,
                Severity.STRICTER,
                where,
                _types_text(o.types),
                _types_text(t.types),
                "ours refuses null; theirs allows it",
            )
        ob = None if o.types is None else o.types - {"null"}
        tb = None if t.types is None else t.types - {"null"}
        if ob == tb:
            return
        if tb is None or (ob is not None and _subset(ob, tb)):
            severity, note = Severity.STRICTER, "ours allows fewer types"
        else:
            severity, note = Severity.CONTRADICTION, "ours allows a type theirs does not"
        self.emit(Kind.TYPE, severity, where, _types_text(ob), _types_text(tb), note)

    def _format(self, o: Shape, t: Shape, where: str) -> None:
        of, tf = o.format, t.format
        if of == tf:
            return
        family = next((w for w in _WIDTHS if (of or tf) in w), None)
        if family is not None and (of is None or tf is None):
            self.emit(Kind.FORMAT, Severity.INFO, where, of, tf, "numeric width format on one side only")
        elif family is not None and of in family and tf in family:
            narrower = family.index(str(of)) < family.index(str(tf))
            sev = Severity.STRICTER if narrower else Severity.CONTRADICTION
            self.emit(Kind.FORMAT, sev, where, of, tf, "numeric widths differ")
        elif tf is None:
            self.emit(Kind.FORMAT, Severity.STRICTER, where, of, None, f"ours requires format {of}; theirs any string")
        elif of is None:
            self.emit(
                Kind.FORMAT, Severity.CONTRADICTION, where, None, tf, f"theirs requires format {tf}; ours does not"
            )
        else:
            self.emit(Kind.FORMAT, Severity.CONTRADICTION, where, of, tf, "formats differ")

    def _enum(self, o: Shape, t: Shape, where: str) -> None:
        if o.enum is None and t.enum is None:
            return
        o_keys = None if o.enum is None else {_key(v) for v in o.enum}
        t_keys = None if t.enum is None else {_key(v) for v in t.enum}
        if o_keys == t_keys:
            return
        if t_keys is None:
            sev, note = Severity.STRICTER, "ours allows only these values"
        elif o_keys is None:
            sev, note = Severity.CONTRADICTION, "theirs allows only these values; ours any"
        elif o_keys <= t_keys:
            sev, note = Severity.STRICTER, "ours allows fewer values"
        else:
            extra = ", ".join(sorted(o_keys - t_keys))
            sev, note = Severity.CONTRADICTION, f"ours allows {extra}, which theirs does not"
        self.emit(Kind.ENUM, sev, where, _values(o.enum), _values(t.enum), note)

    def _bounds(self, o: Shape, t: Shape, where: str) -> None:
        for name, kind in (*_LOWER.items(), ("exclusiveMinimum", Kind.MINIMUM)):
            self._bound(name, kind, o.bounds.get(name), t.bounds.get(name), where, lower=True)
        for name, kind in (*_UPPER.items(), ("exclusiveMaximum", Kind.MAXIMUM)):
            self._bound(name, kind, o.bounds.get(name), t.bounds.get(name), where, lower=False)
        op, tp = o.bounds.get("pattern"), t.bounds.get("pattern")
        if op != tp:
            sev = Severity.STRICTER if tp is None else Severity.CONTRADICTION
            note = "ours requires a pattern theirs does not" if tp is None else "patterns differ"
            self.emit(Kind.PATTERN, sev, where, op, tp, note)

    def _bound(self, name: str, kind: Kind, ob: Any, tb: Any, where: str, *, lower: bool) -> None:
        if ob == tb:
            return
        if tb is None:
            sev, note = Severity.STRICTER, f"ours sets {name} {ob}; theirs no limit"
        elif ob is None:
            sev, note = Severity.CONTRADICTION, f"theirs sets {name} {tb}; ours no limit"
        elif (ob > tb) == lower:
            sev, note = Severity.STRICTER, f"ours {name} {ob} is tighter than theirs {tb}"
        else:
            sev, note = Severity.CONTRADICTION, f"ours {name} {ob} is looser than theirs {tb}"
        self.emit(kind, sev, where, None if ob is None else str(ob), None if tb is None else str(tb), note)

    def _object(self, o: Shape, t: Shape, where: str, depth: int) -> None:
        names = list(o.properties) + [n for n in t.properties if n not in o.properties]
        names += sorted((o.required | t.required) - set(names))
        for name in names:
            at = f"{where}/{name}"
            in_o, in_t = name in o.properties, name in t.properties
            o_req, t_req = name in o.required, name in t.required
            if t_req and not o_req:
                note = "theirs requires it; ours " + ("leaves it optional" if in_o else "does not describe it")
                self.emit(Kind.REQUIRED, Severity.CONTRADICTION, at, "optional" if in_o else None, "required", note)
            elif o_req and not t_req and (in_t or t.additional is not False):
                sev = Severity.STRICTER if in_t else Severity.CONTRADICTION
                note = "ours requires it; theirs " + ("leaves it optional" if in_t else "does not describe it")
                self.emit(Kind.REQUIRED, sev, at, "required", "optional" if in_t else None, note)
            if in_o and in_t:
                self.compare(o.properties[name], t.properties[name], at, depth + 1)
            elif in_t and o.additional is False:
                self.emit(
                    Kind.PROPERTY,
                    Severity.CONTRADICTION,
                    at,
                    None,
                    _short(shape(self.theirs, t.properties[name])),
                    "theirs allows this field; ours forbids it",
                )
            elif in_o and t.additional is False:
                self.emit(
                    Kind.PROPERTY,
                    Severity.CONTRADICTION,
                    at,
                    _short(shape(self.ours, o.properties[name])),
                    None,
                    "ours allows this field; theirs forbids it",
                )
            elif in_t and not t_req:
                self.emit(
                    Kind.PROPERTY,
                    Severity.INFO,
                    at,
                    None,
                    _short(shape(self.theirs, t.properties[name])),
                    "described by theirs only",
                )
            elif in_o and not o_req:
                self.emit(
                    Kind.PROPERTY,
                    Severity.INFO,
                    at,
                    _short(shape(self.ours, o.properties[name])),
                    None,
                    "described by ours only",
                )
        oa, ta = o.additional, t.additional
        if oa is False and ta is not False:
            self.emit(
                Kind.ADDITIONAL_PROPERTIES,
                Severity.CONTRADICTION,
                where,
                "false",
                "allowed",
                "ours forbids fields theirs allows",
            )
        elif ta is False and oa is not False:
            self.emit(
                Kind.ADDITIONAL_PROPERTIES,
                Severity.CONTRADICTION,
                where,
                "allowed",
                "false",
                "ours allows fields theirs forbids",
            )
        elif isinstance(oa, dict) and isinstance(ta, dict):
            self.compare(oa, ta, f"{where}/*", depth + 1)
        elif isinstance(oa, dict) and ta is True:
            self.emit(
                Kind.ADDITIONAL_PROPERTIES, Severity.STRICTER, where, "schema", "any", "ours constrains extra fields"
            )
        elif oa is True and isinstance(ta, dict):
            self.emit(
                Kind.ADDITIONAL_PROPERTIES,
                Severity.CONTRADICTION,
                where,
                "any",
                "schema",
                "theirs constrains extra fields; ours does not",
            )

    def _items(self, o: Shape, t: Shape, where: str, depth: int) -> None:
        if o.items is not None and t.items is not None:
            self.compare(o.items, t.items, f"{where}/items", depth + 1)
        elif t.items is not None:
            self.emit(
                Kind.ITEMS,
                Severity.CONTRADICTION,
                where,
                "any",
                _short(shape(self.theirs, t.items)),
                "theirs constrains the items; ours does not",
            )
        elif o.items is not None:
            self.emit(
                Kind.ITEMS,
                Severity.STRICTER,
                where,
                _short(shape(self.ours, o.items)),
                "any",
                "ours constrains the items",
            )


def compare_schemas(ours: Document, o_node: Any, theirs: Document, t_node: Any, where: str, emit: Emit) -> None:
    """Emit every difference between schema `o_node` of `ours` and `t_node` of `theirs` at `where`."""
    _Walker(ours, theirs, emit).compare(o_node, t_node, where)
