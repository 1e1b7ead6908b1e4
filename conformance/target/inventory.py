"""Pre-made licenses, for a target on which the run may not create any.

Without a management token the run uses licenses an operator made
beforehand and listed in a file (JSON or YAML: a list, or `{"licenses": [...]}`;
TOML: `[[licenses]]` tables), each with its `license_key` and the policy
values it was made with (`max_floating_users`, `floating_timeout_minutes`,
`license_type`), optionally a `license_id` and a non-secret `name`. A policy
without max_floating_users is written `"max_floating_users": null` (JSON, YAML)
or `"unlimited"` (any format; TOML has no null); leaving the field out is an
error, so that a forgotten value is not taken for "no limit". Unknown fields are
refused too: a typo would leave every scenario not_run with no clue why.

A scenario asks for a policy and gets the unused license whose policy
fits it best (the timeout nearest to the one asked, a longer one before a
shorter), each license at most once per run: a license whose seats another
scenario holds would make both scenarios' verdicts wrong. None of them is
ever revoked at the end; they are not the run's.
"""

from __future__ import annotations

import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from leasecheck.conformance.settings import SettingsError
from leasecheck.core.inputs import header_value_problem, parse_problem

#: An inventory license may have a longer timeout than asked for, up to this many
#: times (at least one minute): a scenario then waits longer, but still judges right.
TIMEOUT_SLACK = 5
#: How an inventory says "a policy without max_floating_users" (TOML has no null).
UNLIMITED = "unlimited"


@dataclass(frozen=True)
class InventoryLicense:
    """One line of the inventory; absent policy values are None."""

    license_key: str
    license_id: str
    name: str
    max_floating_users: int | None
    floating_timeout_minutes: int | None
    license_type: str | None

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> InventoryLicense:
        license_id = entry.get("license_id", entry.get("name", "inventory"))
        return cls(
            license_key=entry["license_key"],
            license_id=license_id,
            name=entry.get("name", license_id),
            max_floating_users=entry.get("max_floating_users"),
            floating_timeout_minutes=entry.get("floating_timeout_minutes"),
            license_type=entry.get("license_type"),
        )

    def timeout_or(self, asked_minutes: int) -> int:
        """Its policy timeout; what was asked for when the inventory does not say."""
        return int(self.floating_timeout_minutes if self.floating_timeout_minutes is not None else asked_minutes)

    def fits(self, seats: int | None, timeout_minutes: int) -> bool:
        """Same seats; and, for a limited pool, a timeout not far longer than asked."""
        if self.max_floating_users != seats:
            return False
        return seats is None or self.timeout_or(timeout_minutes) <= max(timeout_minutes, 1) * TIMEOUT_SLACK


class Inventory:
    """The licenses of an inventory file, each handed out at most once (thread-safe)."""

    def __init__(self, licenses: list[InventoryLicense]) -> None:
        self.licenses = licenses
        self._used: set[str] = set()  # license keys
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> Inventory:
        """Read an inventory file; `SettingsError` with the one-line reason if it is unusable."""
        where = f"inventory {str(path)!r}"
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{where} cannot be read: {exc}") from None
        try:
            if str(path).endswith(".toml"):
                data: Any = tomllib.loads(text).get("licenses")
            else:  # JSON is YAML: one parser reads both
                data = yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            language = "TOML" if str(path).endswith(".toml") else "JSON or YAML"
            raise SettingsError(f"{where} is not valid {language}: {parse_problem(exc)}") from None
        if isinstance(data, dict):
            if "licenses" not in data:
                raise SettingsError(f"{where} is a mapping without a licenses list")
            data = data["licenses"]
        if not isinstance(data, list):
            raise SettingsError(f"{where} must be a list of licenses (or {{licenses: [...]}}), not {_kind(data)}")
        if not data:
            raise SettingsError(f"{where} lists no license")
        seen: set[str] = set()
        for i, entry in enumerate(data, 1):
            problem = _entry_problem(entry)
            if problem is None and entry["license_key"] in seen:
                problem = "the same license_key as an earlier entry"
            if problem:
                named = f" ({_label(entry)})" if isinstance(entry, dict) else ""
                raise SettingsError(f"{where}, license {i}{named}: {problem}")
            seen.add(entry["license_key"])
            if entry["max_floating_users"] == UNLIMITED:
                entry["max_floating_users"] = None
        return cls([InventoryLicense.from_entry(e) for e in data])

    def claim(self, seats: int | None, timeout_minutes: int) -> InventoryLicense | None:
        """The unused license that fits best, now used; None when there is none.

        Best: the timeout asked, else the nearest longer, else the nearest shorter,
        so that a scenario asking for a short lease never takes the long one a
        later scenario needs (the plan's inventory then always suffices)."""
        with self._lock:
            fitting = [
                lic for lic in self.licenses if lic.license_key not in self._used and lic.fits(seats, timeout_minutes)
            ]
            if not fitting:
                return None
            best = min(fitting, key=lambda lic: _distance(lic.timeout_or(timeout_minutes), timeout_minutes))
            self._used.add(best.license_key)
            return best


def _distance(timeout: int, asked: int) -> tuple[bool, int]:
    return (timeout < asked, abs(timeout - asked))


#: The fields of an inventory entry: name -> (the types it may have, what it must be).
FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "license_key": ((str,), "a non-empty string"),
    "license_id": ((str,), "a string"),
    "name": ((str,), "a string"),
    "max_floating_users": ((int, str, type(None)), f'an integer of 0 or more, null or "{UNLIMITED}" (no seat limit)'),
    "floating_timeout_minutes": ((int,), "an integer of 1 or more"),
    "license_type": ((str,), "a string such as subscription"),
}


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with one entry, or None. Unknown fields are refused: a typo such as
    `max_floating_user` would otherwise leave every scenario not_run with no clue why."""
    if not isinstance(entry, dict):
        return f"must be a mapping with a license_key, not {_kind(entry)}"
    unknown = sorted(set(map(str, entry)) - set(FIELDS))
    if unknown:
        return f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(FIELDS)}"
    if "license_key" not in entry:
        return "has no license_key"
    for name, value in entry.items():
        types, must = FIELDS[name]
        bad_type = not isinstance(value, types) or isinstance(value, bool)
        if bad_type or _out_of_range(name, value):
            return f"{name} must be {must}, not {_kind(value)}"
    key_problem = header_value_problem(entry["license_key"])  # sent as `Authorization: License <key>`
    if key_problem:
        return f"license_key {key_problem}"
    if "max_floating_users" not in entry:  # absent is not "no limit": a forgotten value would pass for one
        return f'max_floating_users is missing; give the policy\'s value, or "{UNLIMITED}" for a policy without one'
    return None


def _out_of_range(name: str, value: Any) -> bool:
    if name == "license_key":
        return not value.strip()
    if name == "max_floating_users":
        return value != UNLIMITED if isinstance(value, str) else value is not None and value < 0
    if name == "floating_timeout_minutes":
        return bool(value < 1)
    return False


def _label(entry: dict[str, Any]) -> str:
    """How a message names an entry: its name or license_id when that is a string (a
    mapping or list there could hold a key, and is never printed), else 'unnamed'."""
    return next((entry[k] for k in ("name", "license_id") if isinstance(entry.get(k), str)), "unnamed")


def _kind(value: Any) -> str:
    """How a wrong value is named in a message: its type, and the value when it is short
    (never a whole mapping: it may hold a license key)."""
    if isinstance(value, (dict, list)):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    return f"a {type(value).__name__}"
