"""Session-wide isolation: the project's tests write nothing to the developer's home.

Conformance runs against a `--target` keep a run ledger in the user's state
directory (leasecheck/core/ledger.py: `$XDG_STATE_HOME/leasecheck/runs`). The CLI
subprocesses the tests start inherit XDG_STATE_HOME (their helpers strip only
LEASECHECK_* variables), so it points at a temporary directory for the session;
tests that are about the ledger set LEASECHECK_STATE_DIR themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from leasecheck.conformance import markers


def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)  # our tests import scenario modules outside the conformance plugin


@pytest.fixture(scope="session", autouse=True)
def _private_state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    previous = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("xdg-state"))
    yield
    if previous is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = previous


#: `../shared/reference` beside the checkout: third-party reference data CI has and a
#: user's clone may not. Tests that read it skip, saying so, where it is absent.
#: `LEASECHECK_SHARED_REFERENCE` names it for a checkout elsewhere (a git worktree).
SHARED_REFERENCE = Path(
    os.environ.get("LEASECHECK_SHARED_REFERENCE") or Path(__file__).resolve().parents[1].parent / "shared" / "reference"
)


@pytest.fixture(scope="session")
def official_contract() -> Path:
    """The official LicenseKit contract (OpenAPI), or a skip with the reason."""
    path = SHARED_REFERENCE / "licensekit-contract" / "openapi.yaml"
    if not path.is_file():
        pytest.skip(f"no shared copy of the official contract at {path} (CI has one; a user's clone may not)")
    return path
