"""The checks of the settings several commands share: one home, one wording.

`conformance`, `doctor`, `load` and `cleanup` all take a target URL, a management
token, numbers of seconds and a report directory; inventories hold license keys. A mistake in any of them is the user's, so
each check here raises `BadInput` (a core `UsageError`: one line, exit 2)
before the first request, instead of letting httpx, a sleep or a `mkdir`
fail later with a traceback or, worse, a run of failures blamed on the server.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from leasecheck.core.errors import UsageError


class BadInput(UsageError, ValueError):
    """A setting is unusable; the message is the one-line reason."""


_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_DOTTED_NUMBERS = re.compile(r"^[0-9.]+$")


def target_url(text: str, what: str = "--target") -> str:
    """The base URL of a lease server, without a trailing slash; `BadInput` says what is wrong.

    The URL must be one httpx (the conformance client) and locust can connect to:
    http or https, a host that is a valid IP address or DNS name, a port in 1..65535,
    no credentials (they would be printed in reports) and no query or fragment. A message
    never quotes a password: the URL is shown with its userinfo as `***`."""
    shown = repr(without_userinfo(text))
    try:
        u = urlsplit(text.strip())
    except ValueError as exc:  # e.g. a bracketed host that is no IPv6 address
        raise BadInput(f"{what} {shown} is not a valid URL: {exc}") from None
    if "://" not in text:
        raise BadInput(f"{what} {shown} has no scheme; write it as http://HOST:PORT or https://HOST")
    if u.scheme.lower() not in ("http", "https"):
        raise BadInput(f"{what} {shown}: scheme {u.scheme!r} is not supported; use http:// or https://")
    if u.username is not None or u.password is not None:
        raise BadInput(
            f"{what} {shown} holds credentials (user:password@, not shown); "
            "give the token with --management-token instead"
        )
    if u.query or u.fragment or text.strip().endswith(("?", "#")):
        raise BadInput(f"{what} {shown}: a base URL takes no query or fragment")
    host = u.hostname or ""
    if not host:
        raise BadInput(f"{what} {shown} names no host")
    try:
        port = u.port
    except ValueError:
        raise BadInput(f"{what} {shown}: the port must be a number from 1 to 65535") from None
    if port == 0:
        raise BadInput(f"{what} {shown}: the port must be a number from 1 to 65535")
    problem = _host_problem(host, bracketed="[" in u.netloc)
    if problem:
        raise BadInput(f"{what} {shown}: {problem}")
    import httpx  # the client that will use it has the last word (imported late: keeps --help light)

    try:
        httpx.URL(text.strip())
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise BadInput(f"{what} {shown} is not a valid URL: {exc}") from None
    return text.strip().rstrip("/")


def without_userinfo(text: str) -> str:
    """`text` with any userinfo (`user:password@`) before its host replaced by `***`,
    with or without a scheme: what a message may quote of a URL."""
    start = text.find("//") + 2 if "//" in text else 0
    end = min((i for i in (text.find(c, start) for c in "/?#") if i != -1), default=len(text))
    at = text.rfind("@", start, end)
    return text if at == -1 else f"{text[:start]}***{text[at:]}"


def _host_problem(host: str, *, bracketed: bool) -> str | None:
    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"{host!r} is not a valid IPv6 address"
        return None
    if _DOTTED_NUMBERS.match(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"{host!r} is not a valid IPv4 address (four numbers 0-255)"
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return f"{host!r} is not a valid host name"
    labels = ascii_host.rstrip(".").split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        return f"{host!r} is not a valid host name (letters, digits and '-', dot-separated labels)"
    return None


#: Characters a header value cannot hold, by the name a message gives them.
_CONTROL_NAMES = {"\n": "a line break", "\r": "a line break (carriage return)", "\t": "a tab", "\x00": "a NUL"}


def header_value_problem(text: str) -> str | None:
    """Why `text` cannot be sent inside an HTTP header (a token after `Bearer `, a license
    key after `License `), or None. RFC 9110's field-value, ASCII only: visible characters
    and spaces between them; a control character (a line break would end the header) or a
    character beyond ASCII (httpx encodes headers as ASCII) is refused. The message names
    the character's kind and place, never the text: it is a secret."""
    for i, ch in enumerate(text):
        if "!" <= ch <= "~" or (ch == " " and 0 < i < len(text) - 1):
            continue
        if ch == " ":
            kind = f"a space at its {'start' if i == 0 else 'end'}"
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            kind = _CONTROL_NAMES.get(ch, f"a control character (U+{ord(ch):04X})")
        else:
            kind = "not ASCII"
        return (
            f"cannot go in an HTTP header: character {i + 1} is {kind} "
            "(it must be visible ASCII characters, RFC 9110 field-value)"
        )
    return None


def header_value(
    text: str, what: str = "the management token (--management-token or LEASECHECK_MANAGEMENT_TOKEN)"
) -> str:
    """`text` if it can be sent in an HTTP header, else `BadInput` saying why (not quoting it)."""
    problem = header_value_problem(text)
    if problem:
        raise BadInput(f"{what} {problem}")
    return text


def positive_finite(value: float, what: str) -> float:
    """A finite number > 0 (`inf` would make a run wait forever, `nan` compares false to everything)."""
    if not (math.isfinite(value) and value > 0):
        raise BadInput(f"{what} must be a finite number greater than 0, not {value:g}")
    return value


def non_negative(value: float, what: str) -> float:
    """A finite number >= 0."""
    if not (math.isfinite(value) and value >= 0):
        raise BadInput(f"{what} must be a finite number of 0 or more, not {value:g}")
    return value


def int_at_least(value: int, least: int, what: str, most: int | None = None) -> int:
    """An integer in least..most."""
    if value < least or (most is not None and value > most):
        bound = f"from {least} to {most}" if most is not None else f"at least {least}"
        raise BadInput(f"{what} must be {bound}, not {value}")
    return value


#: Directories `writable_dir` made in this process, outermost first: a command refused
#: before it wrote anything there removes them again (`discard_empty_made_dirs`).
_made: list[Path] = []


def writable_dir(path: Path, what: str = "--report-dir") -> Path:
    """The directory, created if missing and shown to take a file; else `BadInput` naming why.

    Found before the run, not after it: a report dir that cannot be written
    used to end a whole run in a traceback with no report at all."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BadInput(f"{what} {str(path)!r} is a file, not a directory")
    try:
        missing = [p for p in (path, *path.parents) if not p.exists()]
        path.mkdir(parents=True, exist_ok=True)
        _made.extend(reversed(missing))
        fd, probe = tempfile.mkstemp(prefix=".leasecheck-write-check-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise BadInput(f"{what} {str(path)!r} cannot be written: {exc.strerror or exc}") from None
    return path


def discard_empty_made_dirs() -> None:
    """Remove the directories `writable_dir` made that are still empty: a refusal (exit 2,
    say an unreachable target found after the report dir was checked) leaves no empty
    `reports/<timestamp>/` behind. A directory holding anything is kept."""
    while _made:
        with contextlib.suppress(OSError):
            _made.pop().rmdir()


def parse_problem(exc: Exception) -> str:
    """A parser's complaint in one line, without the quoted text of the file (which
    may be a line holding a license key): what, and where."""
    import yaml  # here, not at the top: the CLI's --help imports this module

    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(exc).split())
