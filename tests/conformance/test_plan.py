"""plan.py and `leasecheck plan`: the licenses an inventory-mode run needs, from the
scenarios' own declarations, proven by a real run on an inventory made of exactly that."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leasecheck.core.client import Http, Management
from leasecheck.core.server_process import ReferenceServer

LEASECHECK = [sys.executable, "-m", "leasecheck.cli"]
LICENSE_LINE = re.compile(
    r"^\s+(\d+) x (max_floating_users=(\d+)|no max_floating_users), floating_timeout_minutes=(\d+)"
)
MANAGEMENT_LINE = re.compile(r"^\s+([A-Z]+-\d+): needs management access")


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, with no LEASECHECK_* settings (no management token)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    full_env.update(env or {})
    return subprocess.run([*LEASECHECK, *args], capture_output=True, text=True, timeout=timeout, env=full_env)


def parse(plan: str) -> tuple[list[tuple[int | None, int]], set[str]]:
    """The licenses the plan asks for (seats, timeout), one per license, and the
    requirements it says need management access."""
    licenses: list[tuple[int | None, int]] = []
    blocked: set[str] = set()
    for line in plan.splitlines():
        if m := LICENSE_LINE.match(line):
            seats = int(m.group(3)) if m.group(3) is not None else None
            licenses += [(seats, int(m.group(4)))] * int(m.group(1))
        elif m := MANAGEMENT_LINE.match(line):
            blocked.add(m.group(1))
    return licenses, blocked


def provision(srv: ReferenceServer, licenses: list[tuple[int | None, int]]) -> list[dict[str, object]]:
    """Exactly these licenses, made through the server's management API."""
    assert srv.base_url is not None
    mgmt = Management(Http(srv.base_url), srv.management_token)
    product = mgmt.create_product("inventory", f"inv-{time.time_ns()}")
    entries: list[dict[str, object]] = []
    for i, (seats, timeout) in enumerate(licenses):
        policy = mgmt.create_policy(
            product["id"],
            name=f"p{i}",
            code=f"p{i}",
            license_type="subscription",
            max_floating_users=seats,
            floating_timeout_minutes=timeout,
        )
        lic, key = mgmt.create_license(product["id"], policy["id"])
        entries.append(
            {
                "name": f"lic-{i}",
                "license_id": lic["id"],
                "license_key": key,
                "max_floating_users": seats,
                "floating_timeout_minutes": timeout,
            }
        )
    return entries


def test_capacity_plan_lists_each_license_and_no_management(tmp_path: Path) -> None:
    proc = run("plan", "--only", "capacity")
    assert proc.returncode == 0, proc.stderr
    licenses, blocked = parse(proc.stdout)
    # capacity: 1 and 3 seats filled, 1 and 5 seats raced (30 minutes), 0 seats, 2 seats twice-asked.
    assert sorted(licenses, key=str) == sorted([(0, 1), (1, 1), (3, 1), (1, 30), (5, 30), (2, 5)], key=str)
    assert not blocked and "reaches 17 of 17 requirements" in proc.stdout


def test_plan_says_what_an_inventory_covers_and_lacks(tmp_path: Path) -> None:
    """The README's old two-license example: the plan counts what it covers, names what
    is missing for want of licenses and what needs management whatever it holds."""
    inv = tmp_path / "inv.json"
    inv.write_text(
        json.dumps(
            [
                {"license_key": "k1", "max_floating_users": 1, "floating_timeout_minutes": 1},
                {"license_key": "k3", "max_floating_users": 3, "floating_timeout_minutes": 1},
            ]
        )
    )
    proc = run("plan", "--inventory", str(inv))
    assert proc.returncode == 0, proc.stderr
    covers = re.search(r"this inventory \(2 licenses\) covers (\d+) of (\d+) requirements", proc.stdout)
    assert covers is not None, proc.stdout
    assert 0 < int(covers.group(1)) < int(covers.group(2))
    assert "not covered for want of licenses" in proc.stdout and "missing" in proc.stdout
    assert "need management access: " in proc.stdout and "STAT-01" in proc.stdout


@pytest.mark.parametrize(
    "entry,needle",
    [
        ({"license_key": "k"}, "max_floating_users is missing"),
        ({"license_key": "k", "max_floating_users": -1}, "max_floating_users must be an integer of 0 or more"),
    ],
)
def test_a_bad_inventory_entry_exits_2_with_one_line(tmp_path: Path, entry: dict[str, object], needle: str) -> None:
    inv = tmp_path / "inv.json"
    inv.write_text(json.dumps([entry]))
    proc = run("plan", "--inventory", str(inv))
    assert proc.returncode == 2 and needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args,says",
    [
        (["-k", "(("], "-k '((' is not a valid expression: at column 3"),
        (["--only", "capacity", "-k", "nosuchscenario"], "-k 'nosuchscenario' selects no scenario in area(s) capacity"),
    ],
)
def test_a_selection_of_nothing_exits_2_with_one_line(args: list[str], says: str) -> None:
    """It used to print pytest's ERROR, then a plan of nothing (or of everything), and exit 0."""
    proc = run("plan", *args)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("leasecheck: error: ") and says in lines[0], proc.stderr


def test_the_readme_states_the_full_plan_as_plan_prints_it() -> None:
    """The README said 50 licenses where `leasecheck plan` asks for 51."""
    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    proc = run("plan")
    total = re.search(r"^licenses an inventory needs: (\d+)", proc.stdout, re.M)
    reaches = re.search(r"reaches (\d+) of (\d+) requirements", proc.stdout)
    assert proc.returncode == 0 and total and reaches, proc.stdout
    stated = f"For the full catalogue it asks for {total.group(1)} licenses"
    assert stated in readme and f"reach {reaches.group(1)} of {reaches.group(2)} requirements" in readme


@pytest.mark.slow
def test_an_inventory_built_from_the_plan_judges_everything_but_management(tmp_path: Path) -> None:
    """The acceptance test of the plan: provision exactly what it prints on a real
    reference server, run the whole suite with that inventory and no management token,
    and every requirement the plan does not reserve for management is judged; those it
    reserves are not_run for management access, not for the inventory."""
    proc = run("plan", "--minute-seconds", "1")
    assert proc.returncode == 0, proc.stderr
    licenses, blocked = parse(proc.stdout)
    assert len(licenses) > 20 and blocked
    with ReferenceServer(minute_seconds=1.0) as srv:
        assert srv.base_url is not None
        inv = tmp_path / "inventory.json"
        inv.write_text(json.dumps(provision(srv, licenses)))
        doctor = run("doctor", "--target", srv.base_url, "--inventory", str(inv), "--minute-seconds", "1")
        report = tmp_path / "report"
        conf = run(
            "conformance",
            "--target",
            srv.base_url,
            "--inventory",
            str(inv),
            "--minute-seconds",
            "1",
            "--report-dir",
            str(report),
            "--state-dir",
            str(tmp_path / "state"),
        )
    results = json.loads((report / "results.json").read_text())
    unjudged = {
        r["id"]: r.get("reason")
        for r in results["requirements"]
        if r["outcome"] == "not_run" and r["id"] not in blocked
    }
    assert not unjudged, conf.stdout[-3000:]
    for r in results["requirements"]:
        if r["id"] in blocked:
            assert r["outcome"] == "not_run" and r["reason"].startswith("needs management access"), r
    assert results["target"]["provisioning"] == "inventory"
    # doctor says what the file covers, never a bare "ok inventory".
    assert "ok    inventory" not in doctor.stdout
    total = len(results["requirements"])
    assert f"covers {total - len(blocked)} of {total} requirements" in doctor.stdout, doctor.stdout
