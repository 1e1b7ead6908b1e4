"""Which official SDKs can verify a run's signed answers, and why not.

A vendor's customers reach the server through the official SDKs, so "your
signatures verify" has to mean "they verify in the SDK your customer runs".
The three official SDKs re-serialise `data` under two byte rules (see
`signing.py`); `Interop` checks every signed answer of a run under each SDK's
rule and keeps a tally per SDK with a few examples of what failed and why.

The verdict separates what a vendor must fix from what no server can fix:
an answer with ASCII-only data that some SDK cannot verify is the server's
bug; an answer whose data holds non-ASCII text cannot verify under both the
Python rule and the TypeScript/Ruby rule at once, so that disagreement is
reported as what it is.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .signing import SDKS, KeyRing, is_ascii_data

#: How many failing answers per SDK the report names.
EXAMPLES = 5
NON_ASCII_WHY = "non-ASCII in data: the Python SDK cannot verify this; the TypeScript and Ruby SDKs can"


@dataclass
class SdkTally:
    """One SDK's view of the run's signed answers."""

    sdk: str
    verified: int = 0
    failed: int = 0
    failed_non_ascii_only: int = 0  # failed only because the data holds non-ASCII text
    examples: list[dict[str, str]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return SDKS[self.sdk]

    def verdict(self) -> str:
        if self.verified + self.failed == 0:
            return "no signed answer was seen"
        if self.failed == 0:
            return f"every signed answer verified ({self.verified})"
        if self.failed == self.failed_non_ascii_only:
            return f"{self.failed} of {self.verified + self.failed} signed answers cannot verify: {NON_ASCII_WHY}"
        return f"{self.failed} of {self.verified + self.failed} signed answers do not verify"

    def to_json(self) -> dict[str, Any]:
        """The tally's own fields (examples copied), with its label and verdict beside them."""
        ok = self.failed == 0 and self.verified > 0
        return {"sdk": self.sdk, "label": self.label, **asdict(self), "ok": ok, "verdict": self.verdict()}


class Interop:
    """Thread-safe tally of every signed answer under every official SDK's rule."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tallies = {sdk: SdkTally(sdk) for sdk in SDKS}
        self.non_ascii_answers = 0

    def observe(self, described: str, envelope: Mapping[str, Any], keyring: KeyRing) -> dict[str, str | None]:
        """Check one signed answer under every SDK; returns sdk -> None or why it failed."""
        results = keyring.verify_each_sdk(envelope)
        ascii_only = is_ascii_data(envelope.get("data"))
        # Only the byte rule tells the SDKs apart: when the TypeScript/Ruby rule verifies
        # and the data holds non-ASCII text, the Python failure is the documented one.
        other_rules_ok = results["typescript"] is None and results["ruby"] is None
        with self._lock:
            if not ascii_only:
                self.non_ascii_answers += 1
            for sdk, why in results.items():
                t = self.tallies[sdk]
                if why is None:
                    t.verified += 1
                    continue
                t.failed += 1
                documented = sdk == "python" and not ascii_only and other_rules_ok
                if documented:
                    t.failed_non_ascii_only += 1
                if len(t.examples) < EXAMPLES:
                    t.examples.append({"answer": described, "why": NON_ASCII_WHY if documented else why})
        return results

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "sdks": [t.to_json() for t in self.tallies.values()],
                "non_ascii_answers": self.non_ascii_answers,
            }

    def summary_lines(self) -> list[str]:
        """One line per SDK for the terminal summary."""
        with self._lock:
            return [f"interop {t.label}: {t.verdict()}" for t in self.tallies.values()]
