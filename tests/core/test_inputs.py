"""core/inputs.py: the shared checks, value by value."""

from __future__ import annotations

from pathlib import Path

import pytest

from leasecheck.core.inputs import (
    BadInput,
    header_value,
    header_value_problem,
    int_at_least,
    non_negative,
    positive_finite,
    target_url,
    writable_dir,
)


@pytest.mark.parametrize(
    "url,expected",
    [
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("https://licensing.example.com/base/", "https://licensing.example.com/base"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("http://internal_host:80", "http://internal_host:80"),
        ("https://bücher.example", "https://bücher.example"),
    ],
)
def test_good_urls_pass_without_their_trailing_slash(url, expected):
    assert target_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["http://256.1.1.1", "http://1.2.3", "localhost:8000", "ftp://h", "http://h:0", "http://h:65536", "http://a b",
     "http://[zz]", "http://u:p@h", "http://h/?q", "http://h/#f", "http://", "http://-h-.com", "http://xn--.com"],
)  # fmt: skip
def test_bad_urls_are_bad_input(url):
    with pytest.raises(BadInput, match="--target"):
        target_url(url)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0.0, -1.0])
def test_seconds_must_be_finite_and_positive(value):
    with pytest.raises(BadInput, match="finite number greater than 0"):
        positive_finite(value, "--x")
    assert positive_finite(0.5, "--x") == 0.5


def test_non_negative_and_integer_ranges():
    assert non_negative(0.0, "--x") == 0.0
    for value in (float("nan"), float("inf"), -0.1):
        with pytest.raises(BadInput):
            non_negative(value, "--x")
    assert int_at_least(5, 1, "--n", 5) == 5
    with pytest.raises(BadInput, match="from 1 to 5, not 6"):
        int_at_least(6, 1, "--n", 5)


def test_writable_dir_creates_it_and_refuses_a_file(tmp_path: Path):
    assert writable_dir(tmp_path / "a" / "b").is_dir()
    (tmp_path / "f").write_text("")
    with pytest.raises(BadInput, match="is a file"):
        writable_dir(tmp_path / "f")
    with pytest.raises(BadInput, match="cannot be written"):
        writable_dir(tmp_path / "f" / "below")


@pytest.mark.parametrize(
    "url,shown",
    [
        ("http://user:hunter2pass@127.0.0.1:1", "'http://***@127.0.0.1:1' holds credentials"),
        ("user:hunter2pass@127.0.0.1:1", "'***@127.0.0.1:1' has no scheme"),
        ("ftp://user:hunter2pass@127.0.0.1:1", "'ftp://***@127.0.0.1:1': scheme 'ftp'"),
        ("http://a@b:hunter2pass@127.0.0.1:1/x@y", "'http://***@127.0.0.1:1/x@y' holds credentials"),
    ],
)
def test_a_url_with_credentials_is_refused_without_quoting_the_password(url, shown):
    with pytest.raises(BadInput) as refused:
        target_url(url)
    assert shown in str(refused.value) and "hunter2pass" not in str(refused.value)


@pytest.mark.parametrize(
    "text,says",
    [
        ("tökén", "character 2 is not ASCII"),
        ("abc\ndef", "character 4 is a line break"),
        ("abc\r\nX-Evil: 1", "character 4 is a line break (carriage return)"),
        ("a\tb", "character 2 is a tab"),
        ("a\x01b", "character 2 is a control character (U+0001)"),
        (" abc", "character 1 is a space at its start"),
        ("abc ", "character 4 is a space at its end"),
    ],
)
def test_a_value_no_http_header_can_carry_is_named_without_being_quoted(text, says):
    with pytest.raises(BadInput, match="cannot go in an HTTP header") as refused:
        header_value(text, "--management-token")
    assert str(refused.value).startswith("--management-token ") and says in str(refused.value)
    assert text not in str(refused.value) and repr(text)[1:-1] not in str(refused.value)


def test_visible_ascii_with_inner_spaces_is_a_header_value():
    for good in ("lc-token_0123.~+/=", "lk_abc def", "!#$%&'*"):
        assert header_value(good) == good and header_value_problem(good) is None
