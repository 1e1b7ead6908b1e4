"""`leasecheck conformance` and `doctor`: a user's mistake is exit 2, before the run, in one line.

Each of these used to exit 1 with every check failed (a CI baseline would
read it as a server regression) or end in a traceback, some only after the
whole suite had run (issue 12).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leasecheck.core.client import Http

from .conftest import SHARED_MISTAKES, TOKEN, leasecheck

GOOD_INVENTORY = "- {name: one-seat, license_key: lk_abc, max_floating_users: 1, floating_timeout_minutes: 1}\n"


@pytest.mark.parametrize(
    "name,text,says",
    [
        ("inv.json", '[{"license_key": "lk_a"', "is not valid JSON or YAML"),
        ("inv.toml", "[[licenses]\n", "is not valid TOML"),
        ("inv.json", '{"seats": 1}', "is a mapping without a licenses list"),
        ("inv.json", "[]", "lists no license"),
        ("inv.json", '[{"name": "no key"}]', "license 1 (no key): has no license_key"),
        ("inv.json", '[{"license_key": 5}]', "license 1 (unnamed): license_key must be a non-empty string"),
        ("inv.json", '[{"license_key": "k", "max_floating_user": 1}]', "unknown field(s) max_floating_user"),
        ("inv.json", '[{"license_key": "k", "name": "forgot"}]', "license 1 (forgot): max_floating_users is missing"),
        ("inv.json", '[{"license_key": "lk_a\\nb", "max_floating_users": 1}]', "character 5 is a line break"),
        ("inv.json", '[{"license_key": "lk_aé", "max_floating_users": 1}]', "character 5 is not ASCII"),
        ("inv.json", '[{"name": {"k": "lk_a"}, "license_key": "k"}]', "license 1 (unnamed): name must be a string"),
    ],
)
def test_a_garbage_or_misshapen_inventory_is_exit_2_before_any_request(tmp_path, silent_target, name, text, says):
    inventory = tmp_path / name
    inventory.write_text(text)
    ran = leasecheck("conformance", "--target", silent_target, "--inventory", str(inventory))
    line = ran.one_error_line()  # not "cannot reach": nothing was sent
    assert ran.code == 2 and str(inventory) in line and says in line, line
    assert "lk_a" not in ran.output


def test_a_yaml_inventory_is_read(tmp_path, silent_target):
    """The positive control: a well-formed YAML inventory passes, and the run goes on to the target."""
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(GOOD_INVENTORY)
    ran = leasecheck("conformance", "--target", silent_target, "--inventory", str(inventory))
    assert ran.code == 2 and "cannot reach" in ran.one_error_line()


def _products_created(base_url: str) -> int:
    with Http(base_url) as http:
        text = http.request("GET", "/metrics").response_body.decode()
    return sum(
        int(float(n))
        for n in re.findall(r'route="/api/v1/products",method="POST",status="201"\} (\S+)', text, flags=re.M)
    )


def test_a_wrong_management_token_is_exit_2_in_the_preflight(server, tmp_path):
    wrong = TOKEN[::-1]
    before = _products_created(server.base_url)
    ran = leasecheck(
        "conformance", "--target", server.base_url, "--only", "lifecycle", "--report-dir", str(tmp_path / "r"),
        env={"LEASECHECK_MANAGEMENT_TOKEN": wrong},
    )  # fmt: skip
    line = ran.one_error_line()
    assert ran.code == 2 and "management token was refused" in line and "401" in line, line
    assert wrong not in ran.output and TOKEN not in ran.output
    assert "leasecheck run" not in ran.stdout  # no scenario started
    assert _products_created(server.base_url) == before  # nothing was provisioned


def test_doctor_names_a_wrong_token_and_accepts_the_right_one(server):
    wrong = TOKEN[::-1]
    refused = leasecheck("doctor", "--target", server.base_url, "--management-token", wrong)
    assert refused.code == 2 and re.search(r"^FAIL\s+management token\s+refused", refused.stdout, re.M), refused.output
    accepted = leasecheck("doctor", "--target", server.base_url, "--management-token", TOKEN)
    assert accepted.code == 0 and re.search(r"^ok\s+management token\s+accepted", accepted.stdout, re.M)
    assert wrong not in refused.output + accepted.output and TOKEN not in refused.output + accepted.output


@pytest.mark.parametrize("command", ["conformance", "doctor"])
def test_a_password_in_the_target_url_is_never_printed(command):
    ran = leasecheck(command, "--target", "http://user:hunter2pass@127.0.0.1:1", "--management-token", TOKEN)
    line = ran.one_error_line()
    assert ran.code == 2 and "'http://***@127.0.0.1:1' holds credentials" in line, line
    assert "hunter2pass" not in ran.output


def test_doctor_never_prints_a_token_it_could_not_send(server):
    """A token h11 refuses to put in a header used to be quoted whole in a 'warn' line, exit 0."""
    ran = leasecheck("doctor", "--target", server.base_url, "--management-token", "SECRETtok\nX-Evil: 1")
    assert "SECRETtok" not in ran.output and "X-Evil" not in ran.output, ran.output
    assert ran.code == 2 and "character 10 is a line break" in ran.one_error_line()


@pytest.mark.parametrize("command", ["conformance", "doctor"])
@pytest.mark.parametrize("token,says", [("tökén-token", "is not ASCII"), ("abc\ndef-token", "is a line break")])
def test_a_token_no_header_can_carry_is_exit_2_before_any_request(silent_target, command, token, says):
    """A non-ASCII token was exit 3 (UnicodeEncodeError); one with a line break ran the
    whole suite and failed every MUST ("create product failed: LocalProtocolError")."""
    ran = leasecheck(command, "--target", silent_target, env={"LEASECHECK_MANAGEMENT_TOKEN": token})
    line = ran.one_error_line()  # not "cannot reach": nothing was sent
    assert ran.code == 2 and "management token" in line and "cannot go in an HTTP header" in line and says in line
    assert token not in ran.output and "tök" not in ran.output and "abc\\n" not in ran.output


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1"])
def test_minute_seconds_must_be_a_finite_positive_number(silent_target, value):
    ran = leasecheck("conformance", "--target", silent_target, "--management-token", TOKEN, f"--minute-seconds={value}")
    line = ran.one_error_line()
    assert ran.code == 2 and "--minute-seconds must be a finite number greater than 0" in line, line


def test_minute_seconds_inf_on_the_bundled_server_is_refused_before_it_starts(tmp_path):
    ran = leasecheck("conformance", "--minute-seconds", "inf", "--report-dir", str(tmp_path / "r"))
    assert ran.code == 2 and "--minute-seconds" in ran.one_error_line()
    assert not (tmp_path / "r" / "results.json").exists()


@pytest.mark.parametrize(
    "text,says",
    [
        (": [\n", "is not valid YAML"),
        ("{ids: [CAP-02]}\n", "must be a list of {id, reason, expires?}"),
        ("- {reason: flaky}\n", "entry 1 has no id"),
        ("- {id: NOPE-99, reason: x}\n", "unknown requirement 'NOPE-99'"),
        ("- {id: CAP-02, reason: x, expire: 2030-01-01}\n", "unknown field(s) expire"),
        ("- {id: CAP-02, reason: x, expires: soon}\n", "expires 'soon' is not a date"),
        ("- {id: CAP-02, reason: x, expires: 2020-13-45}\n", "holds a date that does not exist"),
    ],
)
def test_a_bad_expected_failures_file_is_exit_2_before_the_run(tmp_path, text, says):
    path = tmp_path / "expected.yaml"
    path.write_text(text)
    ran = leasecheck(
        "conformance", "--only", "lifecycle", "--expected-failures", str(path), "--report-dir", str(tmp_path / "r")
    )
    line = ran.one_error_line()
    assert ran.code == 2 and str(path) in line and says in line, line
    assert "leasecheck run" not in ran.stdout and not (tmp_path / "r" / "results.json").exists()


def test_a_report_dir_that_cannot_be_written_is_exit_2_before_the_run(tmp_path):
    ran = leasecheck("conformance", "--only", "lifecycle", "--report-dir", "/proc/nope")
    line = ran.one_error_line()
    assert ran.code == 2 and "--report-dir '/proc/nope' cannot be written" in line, line
    assert "leasecheck run" not in ran.stdout


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_report_dir_that_is_a_file_is_exit_2(tmp_path, how):
    a_file = tmp_path / "results"
    a_file.write_text("")
    if how == "flag":
        ran = leasecheck("conformance", "--only", "lifecycle", "--report-dir", str(a_file))
    else:
        ran = leasecheck("conformance", "--only", "lifecycle", env={"LEASECHECK_REPORT_DIR": str(a_file)})
    line = ran.one_error_line()
    assert ran.code == 2 and str(a_file) in line and "is a file" in line, line


@pytest.mark.parametrize(
    "url,says",
    [
        ("http://256.1.1.1:80", "'256.1.1.1' is not a valid IPv4 address"),
        ("127.0.0.1:8000", "has no scheme"),
        ("ftp://127.0.0.1:21", "scheme 'ftp' is not supported"),
        ("http://127.0.0.1:99999", "the port must be a number from 1 to 65535"),
        ("http://[zz]:80", "is not a valid URL"),
        ("http://user:pw@127.0.0.1:80", "holds credentials"),
        ("http://127.0.0.1:80/?x=1", "takes no query or fragment"),
    ],
)
def test_an_invalid_target_url_is_exit_2_without_a_traceback(url, says):
    ran = leasecheck("conformance", "--target", url, "--management-token", TOKEN)
    line = ran.one_error_line()
    assert ran.code == 2 and says in line and "InvalidURL" not in ran.output, line


NUMBERS = {
    "--concurrency=100000": "--concurrency must be from 2 to 1024, not 100000",
    "--max-rps=inf": "--max-rps must be a finite number greater than 0, not inf",
    "--request-timeout=nan": "--request-timeout must be a finite number greater than 0, not nan",
    "--rate-limit-budget=nan": "--rate-limit-budget must be a finite number of 0 or more, not nan",
}


@pytest.mark.parametrize("arg", NUMBERS)
def test_numbers_out_of_range_are_exit_2(silent_target, arg):
    ran = leasecheck("conformance", "--target", silent_target, "--management-token", TOKEN, arg)
    line = ran.one_error_line()
    assert ran.code == 2 and NUMBERS[arg] in line, line


def test_an_empty_management_token_is_exit_2(silent_target):
    ran = leasecheck("conformance", "--target", silent_target, "--management-token", " ")
    assert ran.code == 2 and "--management-token is empty" in ran.one_error_line()


@pytest.mark.parametrize("arg", SHARED_MISTAKES)
def test_doctor_checks_the_same_flags_the_same_way(silent_target, arg):
    """doctor reads its flags through the same Settings as conformance: the same line."""
    ran = leasecheck("doctor", "--target", silent_target, "--management-token", TOKEN, arg)
    line = ran.one_error_line()
    assert ran.code == 2 and SHARED_MISTAKES[arg] in line, line


@pytest.mark.parametrize(
    "args,says",
    [
        (["-k", "(("], "-k '((' is not a valid expression: at column 3"),
        (["-k", "nosuchscenario"], "-k 'nosuchscenario' selects no scenario: nothing would be judged"),
        (["--only", "capacity", "-k", "nosuchscenario"], "selects no scenario in area(s) capacity"),
    ],
)
def test_a_selection_of_nothing_is_exit_2_before_any_request(silent_target, tmp_path, args, says):
    """A bad -k was refused by pytest only after the token preflight, in several lines; one
    matching nothing ran 0 of 76 and failed (exit 1), or with --only passed (exit 0)."""
    ran = leasecheck("conformance", "--target", silent_target, "--management-token", TOKEN, *args, cwd=tmp_path)
    line = ran.one_error_line()  # not "cannot reach": nothing was sent
    assert ran.code == 2 and says in line, line
    assert not (tmp_path / "reports").exists()  # no empty reports/<timestamp>/ left behind


def test_a_bad_baseline_leaves_no_empty_report_dir(tmp_path):
    ran = leasecheck("conformance", "--baseline", str(tmp_path / "nope.json"), cwd=tmp_path)
    assert ran.code == 2 and "no such results file" in ran.one_error_line()
    assert not (tmp_path / "reports").exists()


def test_a_config_that_is_a_directory_is_exit_2(tmp_path):
    ran = leasecheck("conformance", env={"LEASECHECK_CONFIG": str(tmp_path)})
    assert ran.code == 2 and f"config file '{tmp_path}' is a directory" in ran.one_error_line()


def test_an_inventory_without_a_target_is_exit_2(tmp_path):
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(GOOD_INVENTORY)
    ran = leasecheck("conformance", "--only", "lifecycle", "--inventory", str(inventory), cwd=tmp_path)
    assert ran.code == 2 and "--inventory needs --target URL" in ran.one_error_line()
    assert "leasecheck run" not in ran.stdout


def test_doctor_help_says_a_target_is_required():
    """It said "none: bundled server", and doctor refuses to run without one."""
    ran = leasecheck("doctor", "--help")
    assert ran.code == 0 and "LEASECHECK_TARGET); required" in " ".join(ran.stdout.split())
    assert "bundled server" not in " ".join(ran.stdout.split())
    assert (
        leasecheck("doctor").one_error_line() == "leasecheck: error: doctor needs --target URL (or LEASECHECK_TARGET)"
    )


def test_the_readme_row_for_an_unknown_area_is_what_the_command_prints():
    """The row's list of areas lacked explore."""
    line = leasecheck("conformance", "--only", "nope").one_error_line()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"| `conformance --only nope` | 2 | `{line}` |" in readme


def test_the_readme_synopsis_names_every_option_and_only_those():
    """The synopsis is the list of options a reader sees first; it drifts whenever a flag
    is added (errors named --generated-examples and --expiry-tolerance, flags that were
    only settings then)."""
    import re

    from leasecheck.cli.conformance import conformance

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    synopsis = re.search(r"```\n(leasecheck conformance \[.*?)```", readme, re.S)
    assert synopsis, "no conformance synopsis in the README"
    shown = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", synopsis.group(1)))
    params = [set(p.opts) for p in conformance.params if any(o.startswith("-") for o in p.opts)]
    missing = [sorted(opts) for opts in params if not opts & shown]
    unknown = sorted(shown - set().union(*params))
    assert not missing and not unknown, f"missing: {missing}; not options: {unknown}"


def test_the_flags_settings_errors_name_are_flags_the_command_takes():
    for flag, line in (
        ("--generated-examples", "leasecheck: error: --generated-examples must be at least 0, not -1"),
        ("--expiry-tolerance", "leasecheck: error: --expiry-tolerance must be a finite number of 0 or more, not -1"),
    ):
        assert leasecheck("conformance", flag, "-1").one_error_line() == line
