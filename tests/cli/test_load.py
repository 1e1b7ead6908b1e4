"""`leasecheck load`: the flags it shares with conformance are checked by the same code
(core/inputs.py, core/preflight.py), so they are refused with the same line, exit 2,
before locust starts or anything is provisioned."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time

import psutil
import pytest

from .conftest import LEASECHECK, SHARED_MISTAKES, TOKEN, leasecheck


@pytest.mark.parametrize("arg", [*SHARED_MISTAKES, "--report-dir=/proc/nope"])
def test_load_refuses_what_conformance_refuses_with_the_same_line(silent_target, arg):
    ran = leasecheck("load", "seat-race", "--target", silent_target, "--management-token", TOKEN, arg)
    line = ran.one_error_line()
    says = SHARED_MISTAKES.get(arg, "--report-dir '/proc/nope' cannot be written")
    assert ran.code == 2 and says in line, line


@pytest.mark.parametrize("command", [("load", "seat-race"), ("conformance",)], ids=["load", "conformance"])
@pytest.mark.parametrize("where", ["inside-reports", "under-a-file"])
def test_a_state_dir_no_ledger_can_be_kept_in_is_exit_2_before_any_request(silent_target, tmp_path, command, where):
    """A run on a target keeps a ledger of what it makes (license keys): in a private dir,
    never among the reports, checked before the first request by both commands alike."""
    reports = tmp_path / "out"
    state = reports / "state" if where == "inside-reports" else tmp_path / "file" / "state"
    if where == "under-a-file":
        state.parent.write_text("")
    ran = leasecheck(
        *command, "--target", silent_target, "--management-token", TOKEN,
        "--report-dir", str(reports), "--state-dir", str(state),
    )  # fmt: skip
    line = ran.one_error_line()
    says = "is inside the report dir" if where == "inside-reports" else f"cannot use state directory {state / 'runs'}"
    assert ran.code == 2 and says in line, line


def test_load_rate_must_be_finite(tmp_path):
    ran = leasecheck("load", "churn", "--rate", "nan", "--report-dir", str(tmp_path))
    assert ran.code == 2 and "--rate must be a finite number greater than 0" in ran.one_error_line()


def test_a_wrong_management_token_is_exit_2_before_provisioning(server, tmp_path):
    wrong = TOKEN[::-1]
    ran = leasecheck(
        "load", "seat-race", "--target", server.base_url, "--duration", "2s", "--report-dir", str(tmp_path),
        env={"LEASECHECK_MANAGEMENT_TOKEN": wrong},
    )  # fmt: skip
    line = ran.one_error_line()
    assert ran.code == 2 and "management token was refused" in line, line
    assert "provisioning" not in ran.output  # refused in the preflight, not by a failed create
    assert wrong not in ran.output and TOKEN not in ran.output


@pytest.mark.parametrize(
    "arg,says",
    [("--processes=100000", "--processes must be from 0 to"), ("--users=100000000", "--users must be from 1")],
)
def test_load_sizes_beyond_the_machine_are_refused_before_anything_starts(tmp_path, arg, says):
    """--processes 100000 used to fork locust workers until the machine stalled."""
    ran = leasecheck("load", "seat-race", arg, "--report-dir", str(tmp_path))
    assert ran.code == 2 and says in ran.one_error_line()


@pytest.mark.parametrize(
    "args, says",
    [
        (
            ("seat-race", "--param", "round_seconds=0"),
            "--param round_seconds must be a finite number greater than 0, not 0",
        ),
        (("seat-race", "--param", "round_seconds=-1"), "--param round_seconds must be a finite number greater than 0"),
        (
            ("seat-race", "--param", "retry_jitter=-1"),
            "--param retry_jitter must be a finite number at least 0, not -1",
        ),
        (
            ("step", "--param", "step_seconds=nan"),
            "--param step_seconds must be a finite number greater than 0, not nan",
        ),
        (("step", "--param", "rate_step=-5"), "--param rate_step must be a finite number at least 0, not -5"),
        (("step", "--param", "settle_seconds=10"), "--param settle_seconds must be less than step_seconds"),
        (("churn", "--param", "vanish_share=1.5"), "--param vanish_share must be a finite number from 0 to 1"),
        (("seat-race", "--duration", "99999999999h"), "--duration must be at most 168h (604800 s), not 99999999999h"),
        (
            ("seat-race", "--slo", "nosuchep:p95<20ms"),
            "seat-race has no endpoint 'nosuchep'; its endpoints: checkout, heartbeat, checkin",
        ),
    ],
)
def test_knobs_that_would_break_the_run_are_refused_before_the_first_request(silent_target, args, says):
    """Each used to provision licenses and then send nothing (exit 5), never end, or run
    the whole profile to an "observed n/a" breach (exit 3). Against a target where
    nothing listens, a command that sent anything would say "cannot reach" instead."""
    ran = leasecheck("load", *args, "--target", silent_target, "--management-token", TOKEN)
    line = ran.one_error_line()
    assert ran.code == 2 and says in line, line


@pytest.mark.parametrize("where", [("--report-dir", "out/seat-race"), ()], ids=["relative", "default"])
def test_a_relative_or_default_report_dir_is_where_the_run_is_recorded(tmp_path, where):
    """locust runs in a temp dir of its own: handed the report dir as typed, it wrote
    its history there (then deleted), and every such run ended "0 of 1 locust
    processes wrote their history", exit 5, after ~17k requests."""
    ran = leasecheck("load", "seat-race", "--users", "12", "--duration", "3s", *where, cwd=tmp_path, timeout=180)
    found = sorted(tmp_path.glob("out/seat-race" if where else "reports/*-load-seat-race"))
    assert len(found) == 1, ran.output[-3000:]
    summary = json.loads((found[0] / "summary.json").read_text())
    assert summary["invariants"]["operations_judged"] > 0, ran.output[-3000:]
    assert (found[0] / "locust_stats.csv").is_file()
    if ran.code == 5:  # this machine's generator fell behind; nothing else may make the run invalid
        assert summary["reasons"] and all("generator" in r for r in summary["reasons"]), ran.output[-3000:]
    else:
        assert ran.code == 0 and "seat-race: PASSED" in ran.stdout, ran.output[-3000:]
    assert f"reports: {found[0].resolve()}" in ran.stdout


def _is_locust(p: psutil.Process) -> bool:
    try:
        return "locust" in p.cmdline()
    except psutil.Error:  # gone meanwhile
        return False


def _wait_for(what: str, deadline: float, condition):
    """Poll `condition` until it returns something true, or fail at `deadline`."""
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.mark.parametrize("signum, on_target", [(signal.SIGTERM, True), (signal.SIGINT, False)], ids=["term", "int"])
def test_a_signal_mid_run_stops_locust_revokes_and_removes_the_keys(server, tmp_path, signum, on_target):
    """SIGTERM used to kill `leasecheck load` alone: locust ran on until its -t, the
    licenses stayed live and the temp dir with their keys stayed on disk."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    env["TMPDIR"] = str(tmp)  # the runner's private dir (license keys) is made here
    args = ["load", "seat-race", "--users", "6", "--duration", "120s", "--report-dir", str(tmp_path / "out")]
    if on_target:
        args += ["--target", str(server.base_url), "--minute-seconds", "1"]
        env["LEASECHECK_MANAGEMENT_TOKEN"] = TOKEN
    proc = subprocess.Popen([*LEASECHECK, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    locust: list[psutil.Process] = []
    children: list[psutil.Process] = []
    try:
        me = psutil.Process(proc.pid)
        deadline = time.monotonic() + 90
        locust = _wait_for("locust to run", deadline, lambda: [c for c in me.children(recursive=True) if _is_locust(c)])
        _wait_for("the private config", deadline, lambda: list(tmp.glob("leasecheck-load-*/config.json")))
        children = me.children(recursive=True)  # locust, and the bundled server when there is one
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        leftovers = [c for c in [*locust, *children] if c.is_running()]
        for child in leftovers:  # a failing run leaves nothing behind for the next test either
            child.kill()
    assert proc.returncode == 130, out + err
    assert not leftovers, f"{[c.pid for c in leftovers]} outlived the run"
    assert "leasecheck: interrupted" in err, err
    assert not list(tmp.glob("leasecheck-load-*")), "the temp dir holding the license keys is still there"
    if on_target:
        run_id = json.loads((tmp_path / "out" / "shards" / "run.json").read_text())["run_id"]
        with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT status FROM licenses WHERE metadata LIKE ?", (f"%{run_id}%",)).fetchall()
        assert rows and {r[0] for r in rows} == {"revoked"}, rows


def test_judging_shards_as_another_profile_is_refused(tmp_path):
    """`load churn --judge <seat-race shards>` used to judge them as seat-race and print
    "seat-race: PASSED" under the churn command."""
    from leasecheck.load.config import LoadConfig, write_run_record
    from leasecheck.load.profiles import get

    shards = tmp_path / "shards"
    params = get("seat-race").defaults()
    write_run_record(
        shards, LoadConfig("seat-race", "http://127.0.0.1:1", 1.0, 4, 3.0, str(shards), "r1", params).record()
    )
    ran = leasecheck("load", "churn", "--judge", str(shards), "--report-dir", str(tmp_path / "out"))
    line = ran.one_error_line()
    assert ran.code == 2 and "the shards were recorded by profile seat-race, not churn" in line, line
    assert "leasecheck load seat-race --judge" in line
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_run_on_a_target_revokes_every_license_it_made_the_calibrations_too(server, tmp_path):
    """retry-storm measures the target on a calibration license of its own first; that one
    used to stay live on the target after the run, beside the revoked licenses of the run."""
    args = ["load", "retry-storm", "--target", str(server.base_url), "--minute-seconds", "1"]
    ran = leasecheck(
        *args, "--users", "2", "--duration", "3s", "--report-dir", str(tmp_path / "out"),
        "--state-dir", str(tmp_path / "state"), env={"LEASECHECK_MANAGEMENT_TOKEN": TOKEN},
    )  # fmt: skip
    assert ran.code in (0, 1), ran.output[-2000:]  # a verdict; what it is does not matter here
    run_id = json.loads((tmp_path / "out" / "shards" / "run.json").read_text())["run_id"]
    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT p.name, l.status FROM licenses l JOIN products p ON p.id = l.product_id WHERE p.name LIKE ?",
            (f"%{run_id}%",),
        ).fetchall()
    assert any(name.startswith("leasecheck calibration") for name, _ in rows), rows
    assert {status for _, status in rows} == {"revoked"}, rows
    assert not list((tmp_path / "state").glob("runs/*")), "every license revoked: the run's ledger is gone"


def test_a_hard_killed_run_on_a_target_leaves_a_ledger_cleanup_revokes(server, tmp_path):
    """kill -9 gives the run no chance to revoke its licenses: they stayed live on the target
    with no record of them anywhere. Now each is in the run's ledger as soon as it is made."""
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    env |= {"LEASECHECK_MANAGEMENT_TOKEN": TOKEN, "LEASECHECK_STATE_DIR": str(state)}
    args = ["load", "seat-race", "--target", str(server.base_url), "--minute-seconds", "1"]
    args += ["--users", "2", "--duration", "120s", "--report-dir", str(tmp_path / "out")]
    _kill_9_once_locust_runs(args, env)
    run_id = json.loads((tmp_path / "out" / "shards" / "run.json").read_text())["run_id"]

    def statuses() -> set[str]:
        with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT status FROM licenses WHERE metadata LIKE ?", (f"%{run_id}%",)).fetchall()
        return {r[0] for r in rows}

    assert statuses() == {"active"}
    listed = leasecheck("cleanup", "--list", "--state-dir", str(state))
    assert listed.code == 0 and f"{run_id}  {server.base_url}" in listed.stdout, listed.output
    assert TOKEN not in (state / "runs" / f"{run_id}.jsonl").read_text()  # keys are there, the token never
    ran = leasecheck(
        "cleanup", "--run-id", run_id, "--state-dir", str(state), env={"LEASECHECK_MANAGEMENT_TOKEN": TOKEN}
    )
    assert ran.code == 0, ran.output
    assert statuses() == {"revoked"}
    assert not (state / "runs" / f"{run_id}.jsonl").exists()


def test_a_hard_killed_run_leaves_no_locust_sending_load(tmp_path):
    """kill -9 of leasecheck gives it no chance to stop locust: locust asks the kernel to be
    stopped with its parent (core/lifetime.py) instead of running on until its -t."""
    args = ["load", "seat-race", "--users", "2", "--duration", "120s", "--report-dir", str(tmp_path / "out")]
    _kill_9_once_locust_runs(args, None)


def _kill_9_once_locust_runs(args: list[str], env: dict[str, str] | None) -> None:
    """Start `leasecheck ARGS`, SIGKILL it once locust runs, and wait for locust to stop with it."""
    proc = subprocess.Popen([*LEASECHECK, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    locust: list[psutil.Process] = []
    try:
        me = psutil.Process(proc.pid)
        deadline = time.monotonic() + 90
        locust = _wait_for("locust to run", deadline, lambda: [c for c in me.children(recursive=True) if _is_locust(c)])
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _wait_for("locust to stop", time.monotonic() + 30, lambda: not [c for c in locust if _alive(c)])
    finally:
        for child in locust:
            if _alive(child):
                child.kill()


def _alive(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_signal_stops_a_worker_and_its_locust(tmp_path):
    """--worker installed no signal handler: SIGTERM killed leasecheck alone and locust's
    worker went on. A plain listener stands in for the master (the worker only has to run)."""
    with socket.create_server(("127.0.0.1", 0)) as master:
        port = master.getsockname()[1]
        args = ["load", "seat-race", "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
        proc = subprocess.Popen([*LEASECHECK, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        locust: list[psutil.Process] = []
        try:
            me = psutil.Process(proc.pid)
            deadline = time.monotonic() + 60
            locust = _wait_for(
                "locust's worker", deadline, lambda: [c for c in me.children(recursive=True) if _is_locust(c)]
            )
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
            for child in locust:
                if _alive(child):
                    child.kill()
    assert proc.returncode == 130, out + err
    assert "the locust worker stopped" in err, err
    assert not [c for c in locust if _alive(c)], "locust's worker outlived leasecheck"


def test_judging_a_run_record_that_names_no_profile_is_refused(tmp_path):
    """A run.json of another tool (`{}`) said "recorded by profile None" and suggested
    `leasecheck load None --judge ...`; one with a profile and nothing else reached the
    judge and ended in "internal error: KeyError: 'minute_seconds'" (exit 3)."""
    shards = tmp_path / "shards"
    shards.mkdir()
    for doc, says in (("{}", "run.json names no profile"), ('{"profile": "seat-race"}', "'target' is missing")):
        (shards / "run.json").write_text(doc)
        ran = leasecheck("load", "seat-race", "--judge", str(shards), "--report-dir", str(tmp_path / "out"))
        line = ran.one_error_line()
        assert ran.code == 2 and says in line and "None" not in line, line


def test_judging_a_damaged_shard_is_refused_with_the_file_named(tmp_path):
    """A shard cut off in a copy between machines: a line cut mid-way was 'internal error:
    JSONDecodeError' (exit 3), one cut at a line's end was judged on what survived."""
    from leasecheck.core.client import Exchange
    from leasecheck.load.config import LoadConfig, write_run_record
    from leasecheck.load.profiles import get
    from leasecheck.load.runtime.recorder import Recorder

    shards = tmp_path / "shards"
    config = LoadConfig("seat-race", "http://127.0.0.1:1", 1.0, 4, 3.0, str(shards), "r1", get("seat-race").defaults())
    write_run_record(shards, config.record())
    rec = Recorder("local-1", "local")
    rec.meta = {"epoch": 1000.0, "end": 1010.0}
    for n in range(6):
        ex = Exchange("POST", "/api/v1/license/floating/heartbeat", {}, b"{}", sent_at=1000.0 + n,
                      received_at=1000.1 + n, status=404, operation="heartbeat")  # fmt: skip
        rec.attempt(ex, license="L", label="heartbeat", outcome="gone", user="u0", lease_token="llt_x")
    rec.dump(shards)
    history = shards / "local-1.history.jsonl"
    whole = history.read_text()
    for damaged, says in (
        (whole[: len(whole) // 2 + 7], "local-1.history.jsonl, line "),
        ("".join(whole.splitlines(keepends=True)[:2]), "says 6 ops were recorded, but its history holds 2"),
    ):
        history.write_text(damaged)
        ran = leasecheck("load", "seat-race", "--judge", str(shards), "--report-dir", str(tmp_path / "out"))
        line = ran.one_error_line()
        assert ran.code == 2 and says in line, line
        assert not (tmp_path / "out").exists()
