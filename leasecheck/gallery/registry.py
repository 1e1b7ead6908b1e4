"""Every case of the gallery by name: the faults and the honest variants.

A fault is named for the bug a real server shipped; it documents the
requirement IDs (specs/requirements.yaml) the bug violates, which the suite
must fail, and the server `Parts` it is built from: the correct ones with one
subclass from `faults/<area>.py` swapped in. Each fault is written down once,
as its class (`@bug` and a docstring, see `faults/__init__.py`); this module
collects them into the one table that `leasecheck serve --list-faults` prints
and the matrix runs.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, fields, replace

from leasecheck.core.errors import UsageError
from leasecheck.reference_server.app import Parts

from .faults import (
    Bug,
    auth,
    bug_of,
    capacity,
    checkin,
    envelopes,
    expiry,
    explore,
    idempotency,
    input,
    lifecycle,
    sdk,
    signatures,
    status,
    system,
    timing,
)
from .variants import VARIANTS, Variant


class UnknownCase(UsageError):
    """A fault or variant name the gallery does not have (a user's mistake: exit 2)."""


@dataclass(frozen=True, kw_only=True)
class Fault(Bug):
    """A fault as the gallery runs it: its `Bug`, where it lives and the server it is."""

    area: str  # the requirement area the bug belongs to: the module in faults/ that holds it
    description: str  # the real-world bug it mimics: the first paragraph of the class's docstring
    parts: Parts  # the server it is: the correct parts with the faulty class swapped in


#: The modules of faults/, in the order the table lists their areas.
AREAS = (
    capacity,
    checkin,
    idempotency,
    auth,
    expiry,
    timing,
    signatures,
    system,
    status,
    lifecycle,
    input,
    envelopes,
    sdk,
    explore,
)


def _description(cls: type) -> str:
    """The docstring's first paragraph as one line: a sentence there, a table cell here."""
    text = " ".join(inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].split()).removesuffix(".")
    first = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if first.isalpha() and first.istitle() else text


def _parts(cls: type) -> Parts:
    """The correct server with `cls` in the place of the part it subclasses."""
    default = Parts()
    for slot in fields(Parts):
        if issubclass(cls, getattr(default, slot.name)):
            return replace(default, **{slot.name: cls})
    raise TypeError(f"{cls.__qualname__} subclasses no part of the reference server")


def _faults() -> dict[str, Fault]:
    found: dict[str, Fault] = {}
    for module in AREAS:
        area = module.__name__.rsplit(".", 1)[-1]
        for cls in vars(module).values():
            marked = bug_of(cls) if isinstance(cls, type) and cls.__module__ == module.__name__ else None
            if marked is not None:
                found[marked.name] = Fault(
                    **asdict(marked), area=area, description=_description(cls), parts=_parts(cls)
                )
    return found


FAULTS: dict[str, Fault] = _faults()


def fault(name: str) -> Fault:
    """The fault called `name`; UnknownCase (exit 2) naming every fault otherwise."""
    if name not in FAULTS:
        raise UnknownCase(f"unknown fault {name!r}; faults are: {', '.join(sorted(FAULTS))}")
    return FAULTS[name]


def variant(name: str) -> Variant:
    """The honest variant called `name`; UnknownCase (exit 2) naming every variant otherwise."""
    if name not in VARIANTS:
        raise UnknownCase(f"unknown variant {name!r}; variants are: {', '.join(VARIANTS)}")
    return VARIANTS[name]


def warning_line(f: Fault) -> str:
    """What a faulty server says on stderr before it listens: nobody runs one by mistake."""
    return (
        f"WARNING: FAULT INJECTED: {f.name} — this server is deliberately broken ({f.description}); "
        f"it violates {', '.join(f.breaks)}. Never use it for anything but testing a test suite."
    )


def table() -> str:
    """`leasecheck serve --list-faults`: one line per fault."""
    width = max(map(len, FAULTS))
    bwidth = max(len(",".join(f.breaks)) for f in FAULTS.values())
    lines = [f"{'fault':<{width}}  {'area':<11}  {'breaks':<{bwidth}}  bug it mimics"]
    for f in FAULTS.values():
        lines.append(
            f"{f.name:<{width}}  {f.area:<11}  {','.join(f.breaks):<{bwidth}}  {f.description}"
            + ("  [race]" if f.race else "")
        )
    return "\n".join(lines)
