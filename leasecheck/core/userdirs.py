"""leasecheck's folders in the user's home, by the XDG base-directory rules.

One rule for every per-user folder the suite keeps (run ledgers in the state
folder, hypothesis's one-off tables in the cache folder): `$XDG_<KIND>_HOME/leasecheck`
if that variable is set, else `~/<default>/leasecheck`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: XDG variable -> the folder under the home directory it defaults to.
DEFAULTS = {"XDG_STATE_HOME": ".local/state", "XDG_CACHE_HOME": ".cache"}


def user_dir(xdg_variable: str, environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_…_HOME/leasecheck`, or its default under the home directory. Raises
    RuntimeError (or KeyError) where there is no home directory to find."""
    env = os.environ if environ is None else environ
    if env.get(xdg_variable):
        return Path(env[xdg_variable]) / "leasecheck"
    return Path.home() / DEFAULTS[xdg_variable] / "leasecheck"
