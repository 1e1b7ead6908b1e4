"""Pre-made licenses, for a target on which the run may not create any.

Without a management token the run uses licenses an operator made
beforehand and listed in a file (JSON: a list, or `{"licenses": [...]}`;
TOML: `[[licenses]]` tables), each with its `license_key` and the policy
values it was made with (`max_floating_users`, `floating_timeout_minutes`,
`license_type`), optionally a `license_id` and a non-secret `name`. A policy
without max_floating_users is written `"max_floating_users": null` (JSON) or
`"unlimited"` (JSON or TOML, which has no null); leaving the field out is an
error, so that a forgotten value is not taken for "no limit".

A scenario asks for a policy and gets the unused license whose policy
fits it best (the timeout nearest to the one asked, a longer one before a
shorter), each license at most once per run: a license whose seats another
scenario holds would make both scenarios' verdicts wrong. None of them is
ever revoked at the end; they are not the run's.
"""

from __future__ import annotations

import json
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leasecheck.conformance.settings import SettingsError

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
        text = Path(path).read_text(encoding="utf-8")
        try:
            if str(path).endswith(".toml"):
                data: Any = tomllib.loads(text).get("licenses", [])
            else:
                data = json.loads(text)
                data = data.get("licenses", data) if isinstance(data, dict) else data
        except ValueError as exc:
            raise SettingsError(f"inventory {str(path)!r} cannot be parsed: {exc}") from None
        if not isinstance(data, list) or not all(
            isinstance(e, dict) and isinstance(e.get("license_key"), str) for e in data
        ):
            raise SettingsError(f"inventory {str(path)!r} must be a list of licenses, each with a license_key")
        for i, e in enumerate(data):
            where = f"inventory {str(path)!r}, license {i + 1} ({e.get('name', e.get('license_id', 'unnamed'))})"
            seats = e.get("max_floating_users", ...)
            if seats is ...:
                raise SettingsError(
                    f"{where}: max_floating_users is missing; give the policy's value, "
                    f'or "{UNLIMITED}" for a policy without one'
                )
            if seats == UNLIMITED:
                e["max_floating_users"] = None
            elif seats is not None and (not isinstance(seats, int) or isinstance(seats, bool) or seats < 0):
                raise SettingsError(f'{where}: max_floating_users {seats!r} is not a count >= 0, null or "{UNLIMITED}"')
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
