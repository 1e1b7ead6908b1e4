"""`leasecheck load`: bad input is one line on stderr and exit 2; --judge
re-judges shards written by plain `locust -f`."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from leasecheck.load.profiles import discover, get

#: `leasecheck load` arguments | what the one line on stderr must say. Written as
#: the command line a user types, split with shlex.
BAD_INPUT = """
nosuch                            | unknown profile 'nosuch'
step --slo p99<50                 | needs a unit
churn --duration soon             | --duration 'soon'
churn --users 0                   | --users must be from 1 to 100000, not 0
churn --param rate                | write KEY=VALUE
churn --param speed=3             | has no parameter 'speed'
churn --param rate=fast           | not a valid float
seat-race --rate 5                | --rate applies to the open-loop profiles
thundering-herd --duration 2s     | thundering-herd needs --duration of at least
churn --target ftp://x            | scheme 'ftp' is not supported
churn --target http://127.0.0.1:9 | needs --management-token
churn --processes -1              | --processes must be from 0 to
churn --judge /nonexistent/dir    | no run.json there
"""
CASES = [(shlex.split(args), why.strip()) for args, why in (row.split("|") for row in BAD_INPUT.strip().splitlines())]


@pytest.mark.parametrize("args, why", CASES, ids=[" ".join(args) for args, _ in CASES])
def test_bad_input_is_one_line_and_exit_2(args, why, leasecheck):
    proc = leasecheck("load", *args, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and why in lines[0] and lines[0].startswith("leasecheck: error: "), proc.stderr


def test_unreachable_target_is_exit_2(tmp_path, leasecheck):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening
        proc = leasecheck(
            "load",
            "churn",
            "--target",
            f"http://127.0.0.1:{port}",
            "--report-dir",
            str(tmp_path),
            env={"LEASECHECK_MANAGEMENT_TOKEN": "x" * 20},
            timeout=60,
        )
    assert proc.returncode == 2 and "cannot reach" in proc.stderr, proc.stderr


def test_help_documents_profiles_and_exit_codes(leasecheck):
    out = leasecheck("load", "--help", timeout=60).stdout
    for name in discover():
        assert name in out
    for code in ("0  passed", "2  bad settings", "3  SLO breached", "4  invariant violated", "5  run invalid"):
        assert code in out


def test_param_list_shows_every_knob(leasecheck):
    for name, profile in discover().items():
        out = leasecheck("load", name, "--param", "list", timeout=60)
        assert out.returncode == 0
        for key in profile.defaults():
            assert key in out.stdout


def test_plain_locust_run_then_judge(server, tmp_path, load_judge):
    """The locustfiles run under plain `locust -f` (they provision on the master)."""
    shards = tmp_path / "shards"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    env.update(
        {
            "LEASECHECK_TARGET": str(server.base_url),
            "LEASECHECK_MANAGEMENT_TOKEN": server.management_token,
            "LEASECHECK_MINUTE_SECONDS": "1",
            "LEASECHECK_LOAD_SHARDS": str(shards),
        }
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(get("seat-race").locustfile),
            "--headless",
            "-u",
            "8",
            "-r",
            "20",
            "-t",
            "4s",
            "--only-summary",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (shards / "run.json").is_file()
    judged = load_judge("seat-race", shards, tmp_path / "report")
    judged.assert_passed_or_generator_bound()
    assert judged.summary["invariants"]["operations_judged"] > 0


def test_a_run_on_someone_elses_server_revokes_its_licenses(load_run, server):
    """A guest leaves nothing live: every license the run created ends revoked."""
    import sqlite3

    run = load_run("seat-race", "--users", "12", "--duration", "3s", server=server)
    assert run.proc.returncode in (0, 5), run.explain()  # 5: generator-bound on a busy machine
    assert "licenses revoked" in run.proc.stdout + run.proc.stderr
    run_id = run.summary["settings"]["run_id"]
    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT status FROM licenses WHERE metadata LIKE ?", (f"%{run_id}%",)).fetchall()
    assert rows and {r[0] for r in rows} == {"revoked"}, rows
