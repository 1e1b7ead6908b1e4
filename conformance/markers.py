"""The marks a scenario carries, in one list.

The conformance plugin registers them for a run; the project's own test
configuration (tests/conftest.py) registers the same list, because its tests
import scenario modules (for their constants) outside the plugin, where pytest
would otherwise warn that it does not know the marks.
"""

from __future__ import annotations

import pytest

SCENARIO_MARKERS = (
    "requirement(*ids): the requirement IDs a scenario proves",
    "area(name): the requirement area of a scenario",
    "licenses(*License): the licenses a scenario takes (needs.py)",
    "needs_management(why): the scenario needs management access (needs.py)",
    "timeline(script=fn, first=False): timed steps started with the session (see scenarios/conftest.py)",
    "serial(why): pytest runs this scenario itself, not early (see early.py)",
)


def register(config: pytest.Config) -> None:
    """Make every scenario mark known to this pytest session."""
    for line in SCENARIO_MARKERS:
        config.addinivalue_line("markers", line)
