"""Run settings: flags over environment over config file over defaults.

Every bad value ends the run before it starts with one line saying why
(`SettingsError`), never a traceback.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from leasecheck.core.inputs import (
    BadInput,
    header_value,
    int_at_least,
    non_negative,
    positive_finite,
    target_url,
    writable_dir,
)
from leasecheck.core.ledger import RUN_ID_RE
from leasecheck.specs import catalogue


class SettingsError(BadInput):
    """A setting is unusable; the message is the one-line reason."""


ENV_PREFIX = "LEASECHECK_"
#: The bundled server compresses time: one policy minute lasts this many seconds.
BUNDLED_MINUTE_SECONDS = 1.0
#: `--only` values beside the catalogue's areas: scenario modules whose checks span
#: several areas (`scenarios/test_generated.py`: schemathesis-generated requests).
SELECTABLE_GROUPS = ("generated",)
#: Simultaneous requests a concurrency scenario sends unless told otherwise.
DEFAULT_CONCURRENCY = 48
#: The widest race a run may send: each contender is a thread with its own connection,
#: and 1024 is the usual default limit of open files.
MAX_CONCURRENCY = 1024


@dataclass
class Settings:
    target: str | None = None  # None: start the bundled reference server
    management_token: str | None = None
    inventory: Path | None = None
    minute_seconds: float | None = None  # None: 60 for a target, 1 for the bundled server
    report_dir: Path | None = None
    only: tuple[str, ...] = ()
    expected_failures: Path | None = None
    request_timeout: float = 10.0
    expiry_tolerance: float = 1.0
    concurrency: int = DEFAULT_CONCURRENCY
    max_rps: float | None = None  # average request-rate cap for the whole run; None: no cap
    rate_limit_budget: float = 300.0  # seconds a run may spend waiting out 429s in total
    state_dir: Path | None = None  # private run ledgers; None: ~/.local/state/leasecheck
    server_version: str | None = None  # what the target runs (e.g. a commit); None: its Server header
    generated_examples: int = 12
    seed: int = 20261127
    explore_seconds: float = 3.0  # the exploration area's time budget (conformance/explore)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    # ------------------------------------------------------------------ load
    @classmethod
    def load(
        cls,
        flags: Mapping[str, Any] | None = None,
        *,
        config: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        config = config or (Path(environ[ENV_PREFIX + "CONFIG"]) if environ.get(ENV_PREFIX + "CONFIG") else None)
        if config is not None:
            values.update(_read_config(config))
        names = {f.name for f in fields(cls)}
        for name in names:
            env = environ.get(ENV_PREFIX + name.upper())
            if env not in (None, ""):
                values[name] = env
        for k, v in (flags or {}).items():
            if v not in (None, (), []):
                values[k] = v
        unknown = set(values) - names
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        settings = cls(**_coerce(values))
        if settings.inventory is not None and settings.target is None:  # a run, not a plan: plan builds its own
            raise SettingsError(
                "--inventory needs --target URL: without one the run uses the bundled server, "
                "which makes its own licenses (the inventory's would not exist there)"
            )
        return settings.validated()

    def validated(self) -> Settings:
        """Every value and every file checked, before anything is sent (one line each)."""
        try:
            self._check_values()
        except SettingsError:
            raise
        except BadInput as exc:  # the checks shared with the other commands (core/inputs.py)
            raise SettingsError(str(exc)) from None
        self._check_files()
        return self

    def _check_values(self) -> None:
        if self.target is not None:
            self.target = target_url(self.target)
            if self.management_token is None and self.inventory is None:
                raise SettingsError(
                    "a target needs --management-token (or LEASECHECK_MANAGEMENT_TOKEN) or --inventory FILE"
                )
        if self.management_token is not None and self.inventory is not None:
            raise SettingsError("give either a management token or an inventory, not both")
        if self.management_token is not None and not self.management_token.strip():
            raise SettingsError("--management-token is empty")
        if self.management_token is not None:
            header_value(self.management_token)
        self.minute_seconds = positive_finite(self.minute, "--minute-seconds")
        positive_finite(self.request_timeout, "--request-timeout")
        non_negative(self.expiry_tolerance, "--expiry-tolerance")
        int_at_least(self.concurrency, 2, "--concurrency", MAX_CONCURRENCY)
        if self.max_rps is not None:
            positive_finite(self.max_rps, "--max-rps")
        non_negative(self.rate_limit_budget, "--rate-limit-budget")
        if not RUN_ID_RE.match(str(self.run_id)):
            raise SettingsError(f"run-id {self.run_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
        int_at_least(self.generated_examples, 0, "--generated-examples")
        non_negative(self.explore_seconds, "--explore-seconds")
        areas = [*catalogue()["areas"], *SELECTABLE_GROUPS]
        bad = [a for a in self.only if a not in areas]
        if bad:
            raise SettingsError(f"unknown area(s) {', '.join(bad)}; areas are: {', '.join(areas)}")
        if self.report_dir is not None:
            self.report_dir = writable_dir(self.report_dir)

    def _check_files(self) -> None:
        """Read the inventory and the expected-failures file now, as the run will: a
        garbage file is the user's mistake, found before the first request (not 78
        errors blamed on the server, nor a traceback after the whole run)."""
        from .target.inventory import Inventory  # target/ imports this module
        from .verdict import load_expected_failures

        for what, path in (("inventory", self.inventory), ("expected-failures", self.expected_failures)):
            if path is not None and Path(path).is_dir():
                raise SettingsError(f"{what} file {str(path)!r} is a directory")
            if path is not None and not Path(path).is_file():
                raise SettingsError(f"{what} file {str(path)!r} does not exist")
        if self.inventory is not None:
            Inventory.load(self.inventory)
        if self.expected_failures is not None:
            load_expected_failures(self.expected_failures)

    @property
    def bundled(self) -> bool:
        return self.target is None

    @property
    def minute(self) -> float:
        """Seconds in one policy minute on this target: `minute_seconds` when set, else
        60 for a target and BUNDLED_MINUTE_SECONDS for the bundled server."""
        if self.minute_seconds is not None:
            return self.minute_seconds
        return BUNDLED_MINUTE_SECONDS if self.bundled else 60.0


def _read_config(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"config file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise SettingsError(f"config file {str(path)!r} is a directory") from None
    except OSError as exc:
        raise SettingsError(f"config file {str(path)!r} cannot be read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    section = raw.get("leasecheck", raw)
    if not isinstance(section, dict):
        raise SettingsError(f"config file {str(path)!r}: [leasecheck] must be a table")
    return {k.replace("-", "_"): v for k, v in section.items()}


#: How a message names the value a setting's type wants, by a word of its annotation
#: (tested in this order: `tuple[str, ...]` holds "str" too).
_KINDS = (("tuple", "a list of area names"), ("Path", "a path"), ("float", "a number"), ("int", "a whole number"),
          ("str", "a string"))  # fmt: skip
#: Settings whose value a message never quotes.
SECRET_SETTINGS = frozenset({"management_token"})


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    """Each value as its setting's type wants it; a config file's `target = 5` or an
    env value 'abc' for a number is a `SettingsError` naming the setting and the kind
    of value it takes (a secret's value is never quoted)."""
    types = {f.name: str(f.type) for f in fields(Settings)}
    out: dict[str, Any] = {}
    for k, v in values.items():
        t = types.get(k, "")
        try:
            out[k] = None if v is None else _as(t, v)
        except (TypeError, ValueError):
            kind = next((name for word, name in _KINDS if word in t), "another value")
            shown = _a(type(v).__name__) if k in SECRET_SETTINGS else repr(v)
            raise SettingsError(f"{k.replace('_', '-')} must be {kind}, not {shown}") from None
    return out


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _as(t: str, v: Any) -> Any:
    """`v` (from a flag, the environment or TOML) as annotation `t` wants it; TypeError or
    ValueError when it cannot be (a TOML boolean is no number, 2.5 no whole number)."""
    if isinstance(v, bool) and t != "bool":
        raise TypeError(t)
    if "tuple" in t:
        items = v.split(",") if isinstance(v, str) else v
        if not isinstance(items, (list, tuple)) or not all(isinstance(x, str) for x in items):
            raise TypeError(t)
        return tuple(items)
    if "Path" in t:
        if not isinstance(v, (str, Path)):
            raise TypeError(t)
        return Path(v)
    if "float" in t:
        if not isinstance(v, (str, int, float)):
            raise TypeError(t)
        return float(v)
    if t == "int":
        if isinstance(v, float) and not v.is_integer():
            raise ValueError(t)
        if not isinstance(v, (str, int, float)):
            raise TypeError(t)
        return int(v)
    if "str" in t and not isinstance(v, str):
        raise TypeError(t)
    return v
