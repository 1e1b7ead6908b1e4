"""The load profiles, found on disk: every package in this folder is one.

A profile is a folder `<name>/` here holding `__init__.py` (it sets
`PROFILE`, see `profile.py`) and `locustfile.py`. `discover()` imports each
such package and keeps its `PROFILE`; nothing lists the profiles by hand, so
adding a folder adds a profile to the CLI, its `--help`, the judge and the
report.

`LEASECHECK_PROFILE_PATH` (directories, separated like `PATH`) names more
folders to search. They are appended to this package's `__path__`, Python's
own search path for a package's submodules, so a profile kept elsewhere
imports as `leasecheck.load.profiles.<name>` exactly like a bundled one, in
the CLI and in every locust process (they inherit the environment). A
bundled profile wins a clash of names.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
from pathlib import Path

from leasecheck.core.errors import UsageError

from .profile import LOCUSTFILE, Profile

PATH_ENV = "LEASECHECK_PROFILE_PATH"

__path__ += [d for d in os.environ.get(PATH_ENV, "").split(os.pathsep) if d]


class ProfileError(UsageError):
    """No such profile, or a folder that is not a complete one: one line, exit 2."""


@functools.cache
def discover() -> dict[str, Profile]:
    """Every profile on the search path, by name, in name order."""
    found: dict[str, Profile] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            profile = _load(info.name)
            found[profile.name] = profile
    return dict(sorted(found.items()))


def get(name: str) -> Profile:
    profiles = discover()
    if name not in profiles:
        raise ProfileError(f"unknown profile {name!r}; profiles: {', '.join(profiles)}")
    return profiles[name]


def _load(folder: str) -> Profile:
    """Import `<folder>/__init__.py` and check that it declares a whole profile."""
    module = importlib.import_module(f"{__name__}.{folder}")
    profile = getattr(module, "PROFILE", None)
    where = f"load profile folder {folder}/"
    if not isinstance(profile, Profile):
        raise ProfileError(f"{where}: its __init__.py sets no PROFILE (an instance of a Profile subclass)")
    missing = [
        a
        for a in ("name", "help", "summary", "measures", "default_users", "default_duration", "params")
        if not hasattr(profile, a)
    ]
    if missing:
        raise ProfileError(f"{where}: its profile declares no {', '.join(missing)}")
    if profile.name != folder.replace("_", "-"):
        raise ProfileError(
            f"{where}: its profile is named {profile.name!r}; the folder says {folder.replace('_', '-')!r}"
        )
    if profile.folder != Path(str(module.__file__)).resolve().parent:
        raise ProfileError(f"{where}: its Profile subclass is defined in {profile.folder}, not in the folder")
    if not (profile.folder / LOCUSTFILE).is_file():
        raise ProfileError(f"{where}: no {LOCUSTFILE}")
    names = {p.name for p in profile.params}
    if "timeout_minutes" not in names:
        raise ProfileError(f"{where}: no timeout_minutes knob (every profile's leases need one)")
    if profile.rate_param is not None and profile.rate_param not in names:
        raise ProfileError(f"{where}: --rate sets {profile.rate_param!r}, which is not one of its knobs")
    if profile.report_section is not None and not (profile.folder / profile.report_section).is_file():
        raise ProfileError(f"{where}: no {profile.report_section} (its report_section)")
    return profile
