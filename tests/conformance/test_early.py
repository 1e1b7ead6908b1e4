"""early.py: which scenarios may start early, and that running one there gives pytest
the outcome it would have seen, phase by phase (setup, call, teardown)."""

from __future__ import annotations

from pathlib import Path

import pytest

from leasecheck.conformance import early

SCENARIOS = """
import pytest

@pytest.fixture
def lic(target):
    return lambda: "license of " + target

@pytest.fixture
def held(lic):
    yield lic()
    raise RuntimeError("closing held failed")

@pytest.fixture
def broken(lic):
    raise LookupError("cannot build")

@pytest.fixture
def asks(request):
    return request.node.name

@pytest.fixture(scope="module")
def shared():
    return 1

def test_held(target, held):
    assert held == "license of T"

def test_broken(broken):
    pass

@pytest.mark.parametrize("n", [1, 2])
def test_param(target, n):
    assert n == 1

def test_asks(asks):
    pass

def test_shared(shared):
    pass

@pytest.mark.serial("reads the whole server")
def test_serial(target):
    pass
"""
GIVEN = frozenset({"target"})


class Items:
    def __init__(self) -> None:
        self.items: dict[str, pytest.Function] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = {it.name: it for it in session.items if isinstance(it, pytest.Function)}


@pytest.fixture
def items(tmp_path: Path) -> dict[str, pytest.Function]:
    (tmp_path / "test_scenarios.py").write_text(SCENARIOS)
    seen = Items()
    args = [str(tmp_path), "--collect-only", "-qq", "-p", "no:cacheprovider", "--import-mode=importlib"]
    args += ["-o", "markers=serial(why)"]
    assert pytest.main(args, plugins=[seen]) == 0
    return seen.items


def test_only_scenarios_whose_fixtures_are_their_own_start_early(items: dict[str, pytest.Function]) -> None:
    startable = {name for name, it in items.items() if early.startable(it, GIVEN)}
    assert startable == {"test_held", "test_broken", "test_param[1]", "test_param[2]"}
    assert early.serial_reason(items["test_serial"]) == "reads the whole server"


def test_each_error_belongs_to_the_phase_pytest_would_have_seen_it_in(items: dict[str, pytest.Function]) -> None:
    held = early.run_item(items["test_held"], {"target": "T"})
    assert held.setup is None and held.call is None
    assert isinstance(held.teardown, RuntimeError)  # the generator fixture was closed after the body
    assert held.values["held"] == "license of T"
    broken = early.run_item(items["test_broken"], {"target": "T"})
    assert isinstance(broken.setup, LookupError) and broken.call is None
    assert early.run_item(items["test_param[1]"], {"target": "T"}).call is None
    assert isinstance(early.run_item(items["test_param[2]"], {"target": "T"}).call, AssertionError)


def test_near_targets_get_one_scenario_at_a_time() -> None:
    assert early.width(48, 0.001) == 1
    assert early.width(48, 0.15) == early.POOL_LIMIT
    assert early.width(2, 0.15) == 2  # never more than --concurrency
