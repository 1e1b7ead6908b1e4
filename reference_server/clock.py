"""Time as the server sees it: epoch seconds rounded to milliseconds.

Rounding every instant the server stores to the millisecond means the
`lease_expires_at` a client is shown is exactly the instant the server
compares against: a lease is live while `expires_at > now`.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The first and the last instant RFC 3339 (four-digit years) can name, to the millisecond.
MIN_INSTANT = -62135596800.0
MAX_INSTANT = 253402300799.999

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def now() -> float:
    return round(time.time(), 3)


def later(start: float, seconds: float) -> float:
    """`start + seconds`, clamped so that it can still be written as RFC 3339."""
    return round(min(start + seconds, MAX_INSTANT), 3)


def rfc3339(instant: float, style: str = "millis_z") -> str:
    """`2025-01-02T03:04:05.678Z` (default) or `2025-01-02T03:04:05+00:00`.

    The year is always four digits: `%Y` prints year 301 as `301` on glibc,
    which is not RFC 3339 (`date-fullyear = 4DIGIT`), so it is formatted here.

    An instant outside what four-digit years can name is written as the nearest
    one that is: it can only come from stored data (a row written by a server
    that rounded 9999-12-31T23:59:59.9995Z up to year 10000), and an answer
    that cannot be written at all would be a 500 for every later request on it.
    """
    instant = min(max(instant, MIN_INSTANT), MAX_INSTANT)
    dt = EPOCH + timedelta(milliseconds=round(instant * 1000))
    # Attributes, not strftime: every answer's meta carries one, and strftime cost a
    # twentieth of a lease request's CPU.
    head = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if style == "offset_seconds":
        return head + "+00:00"
    return f"{head}.{dt.microsecond // 1000:03d}Z"


def parse_rfc3339(text: str) -> float:
    """Epoch seconds for an RFC 3339 date-time; ValueError with a reason otherwise.

    The result is rounded to the millisecond, and from 9999-12-31T23:59:59.9995Z on
    that rounds past the last instant RFC 3339 can name: it is clamped to
    `MAX_INSTANT`, which is what such a date-time reads as to the millisecond.
    """
    if not _RFC3339.match(text):
        raise ValueError("must be an RFC 3339 date-time such as 2030-01-31T00:00:00Z")
    head, frac_tz = text[:19], text[19:]
    frac = ""
    if frac_tz.startswith("."):
        digits = re.match(r"\.(\d+)", frac_tz)
        assert digits is not None
        frac = "." + digits.group(1)[:6]
        frac_tz = frac_tz[len(digits.group(0)) :]
    tz = "+00:00" if frac_tz in ("Z", "z") else frac_tz
    try:
        dt = datetime.fromisoformat(head.replace("t", "T") + frac + tz)
        return min(round(dt.astimezone(UTC).timestamp(), 3), MAX_INSTANT)
    except (ValueError, OverflowError):
        raise ValueError("is not a valid date-time") from None
