"""Pre-made licenses, for a target on which the run may not create any.

Without a management token the run uses licenses an operator made
beforehand and listed in a file (JSON: a list, or `{"licenses": [...]}`;
TOML: `[[licenses]]` tables), each with its `license_key` and the policy
values it was made with (`max_floating_users`, `floating_timeout_minutes`,
`license_type`), optionally a `license_id` and a non-secret `name`.

A scenario asks for a policy and gets an unused license whose policy
matches, each license at most once per run: a license whose seats another
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
        return cls([InventoryLicense.from_entry(e) for e in data])

    def claim(self, seats: int | None, timeout_minutes: int) -> InventoryLicense | None:
        """The first unused license that fits, now used; None when there is none."""
        with self._lock:
            for lic in self.licenses:
                if lic.license_key not in self._used and lic.fits(seats, timeout_minutes):
                    self._used.add(lic.license_key)
                    return lic
        return None
