"""Client-side expiry (load/runtime/expiry.py): a heartbeat or checkin sent after
its lease's acknowledged expiry is the client's lateness, counted apart and
not an error; a lease refused while it was certainly live stays an error.

Both sides run the `late` profile (tests/load/late_profile/late/): two
sessions at once, the first answer stalling the generator's loop for longer
than the 1 s lease, so the second answer is read after its lease expired (on
main, the midpoint clock estimate of that slow answer pushed the expiry late
and both its heartbeat and checkin counted as errors). The other side sends
its heartbeat at 0.6 of the lease to a server that stores half the deadline
it acknowledges (the gallery's `expire-early`): refused while live.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from leasecheck.gallery import process
from leasecheck.load.profiles import PATH_ENV

LATE = Path(__file__).parent / "late_profile" / "late"


@pytest.fixture
def late_env(tmp_path: Path) -> dict[str, str]:
    extra = tmp_path / "profiles"
    shutil.copytree(LATE, extra / "late", ignore=shutil.ignore_patterns("__pycache__"))
    return {PATH_ENV: str(extra)}


def _late(load_run, late_env, server, *params: str):  # type: ignore[no-untyped-def]
    args = ["--users", "1", "--duration", "8s", "--slo", "errors<0.01%"]
    for p in params:
        args += ["--param", p]
    return load_run("late", *args, server=server, env=late_env)


def test_a_lease_the_generator_read_too_late_is_a_client_side_expiry(server, load_run, late_env):
    run = _late(load_run, late_env, server, "stall_seconds=1.4")
    s = run.summary
    late = s["client_side_expiries"]
    assert late["by_operation"].get("heartbeat", 0) >= 1 and late["by_operation"].get("checkin", 0) >= 1, s[
        "operations"
    ]
    assert s["rates"]["errors"] == 0 and all("failed" not in c for c in s["operations"].values()), s["operations"]
    assert run.proc.returncode == 0, run.explain()  # errors<0.01% holds: an expiry is not an error
    assert f"{late['count']} heartbeat(s)/checkin(s) were sent after their lease had expired" in s["headline"]
    assert f"Client-side expiries: {late['count']} (" in (run.out / "report.html").read_text()


@pytest.mark.parametrize("fault, code", [(None, 0), ("expire-early", 4)])
def test_a_live_lease_refused_stays_an_error(fault, code, load_run, late_env):
    with process.server(fault=fault, minute_seconds=1.0) as srv:
        run = _late(load_run, late_env, srv, "beat_after=0.6")
    s = run.summary
    assert run.proc.returncode == code, run.explain()
    if not fault:  # a generator late by 0.4 s would make client-side expiries here: they are not errors
        assert s["rates"]["errors"] == 0, s["operations"]
    else:
        assert s["operations"]["heartbeat"].get("failed", 0) >= 1 and s["rates"]["errors"] > 0, s["operations"]
        assert "errors<0.01% breached" in " ".join(s["reasons"])
        # the model checker proves it (exit 4): a refusal while the lease was certainly live
        assert any("refused while the lease was certainly live" in r for r in s["reasons"]), s["reasons"]
