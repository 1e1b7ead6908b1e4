"""The errors every layer shares: a user's mistake is not a server's failure.

A `UsageError` is raised for a bad setting, file or flag: the CLI prints its
one-line message and exits 2 before the first request, so a CI baseline never
reads a typo as a server regression. Domain errors that are always a user's
mistake (bad settings, an unusable ledger dir, a bad results file) subclass it.
"""

from __future__ import annotations


def first_line(text: str | None) -> str:
    """A message for one line of a terminal or a report: its first line, at most 300
    characters (schemathesis's and tarfile's messages run to many lines)."""
    stripped = (text or "").strip()
    return stripped.splitlines()[0][:300] if stripped else ""


class UsageError(Exception):
    """A user's mistake, found before the run: one line on stderr, exit 2."""

    exit_code = 2
