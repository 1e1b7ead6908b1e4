"""Validate JSON against the exported schemas, with date-time actually checked.

jsonschema only checks `format: date-time` when the optional
`rfc3339-validator` package is installed, and silently passes anything
otherwise. TIME-05 and ENV-01 depend on that check, so it is implemented here
and registered on our own copy of the 2020-12 format checker: the result does
not depend on what else happens to be installed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from . import SCHEMA_DIR

__all__ = ["FORMAT_CHECKER", "is_date_time", "is_valid", "registry", "validator"]

# RFC 3339 section 5.6 date-time; "T" and "Z" may be lower case. ASCII digits only.
_DATE_TIME = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-]([0-9]{2}):([0-9]{2}))$",
    re.ASCII,
)


def is_date_time(instance: object) -> bool:
    """RFC 3339 date-time with an explicit offset; non-strings pass (type is checked elsewhere)."""
    if not isinstance(instance, str):
        return True
    m = _DATE_TIME.match(instance)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 60:  # 60: RFC 3339 allows a leap second
        return False
    return not (m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59))


def _format_checker() -> FormatChecker:
    checker = FormatChecker(())
    for name, (func, raises) in Draft202012Validator.FORMAT_CHECKER.checkers.items():
        checker.checks(name, raises)(func)
    checker.checks("date-time")(is_date_time)
    return checker


#: The 2020-12 format checks jsonschema offers, with our date-time check.
FORMAT_CHECKER = _format_checker()


@functools.cache
def registry(directory: Path = SCHEMA_DIR) -> Registry:
    """Every exported schema in `directory`, addressable by its `$id` (cached per directory)."""
    resources = [
        Resource.from_contents(json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT202012)
        for path in sorted(directory.glob("*.json"))
    ]
    return Registry().with_resources((rid, r) for r in resources if (rid := r.id()) is not None)


@functools.cache
def validator(name: str, directory: Path = SCHEMA_DIR) -> Draft202012Validator:
    """A validator for component `name` (e.g. "CheckoutEnvelope"), sibling $refs resolved.

    Cached: schemas exported later in the same process are not seen.
    """
    path = directory / f"{name}.json"
    if not path.is_file():
        raise KeyError(f"no exported schema named {name!r} in {directory}")
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, registry=registry(directory), format_checker=FORMAT_CHECKER)


@functools.cache
def _fast(name: str, directory: Path) -> Callable[[object], bool]:
    import jsonschema_rs  # compiled (Rust); already a dependency of schemathesis

    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]
    resources = [(d["$id"], d) for d in docs if isinstance(d, dict) and "$id" in d]
    schema = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
    check = jsonschema_rs.validator_for(
        schema,
        registry=jsonschema_rs.Registry(resources),
        base_uri=schema.get("$id"),
        validate_formats=True,
        formats={"date-time": is_date_time},
    )
    return check.is_valid


def is_valid(instance: object, name: str, directory: Path = SCHEMA_DIR) -> bool:
    """Whether `instance` is valid against component `name`: the verdict of `validator`
    (python-jsonschema, whose messages the reports quote), reached fast for valid answers.

    Every answer of a run is validated and nearly all are valid; python-jsonschema took
    0.5 ms of CPU per answer on the 2-core machine, a tenth of a run's client CPU.
    jsonschema-rs answers first; what it refuses is judged again by `validator`, so where
    it is the stricter (Rust's `$` does not match before a final newline) the
    python-jsonschema verdict stands. Where it would be the more lenient, a broken answer
    would pass: `tests/specs/test_validate.py` holds the two to the same verdicts on every
    schema, for valid instances and for each kind of breakage these schemas can see."""
    if _fast(name, directory)(instance):
        return True
    return validator(name, directory).is_valid(instance)
