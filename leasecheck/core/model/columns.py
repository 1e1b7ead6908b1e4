"""The history read once, column by column.

Reading an attribute of an Op costs a trip to wherever that object lives in
memory; a million ops are a million such trips per attribute. The checker
therefore reads every field it needs in one pass (`attrgetter`, in C) and
transposes the rows into columns: after that, judging walks flat tuples.
Rare paths (refusal codes, workers for per-worker clocks, witnesses) still
read the Op itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from leasecheck.core.history import Op

FIELDS = (
    "license",
    "kind",
    "status",
    "lease",
    "sent_at",
    "received_at",
    "expires_at",
    "server_time",
    "idempotency_key",
)


@dataclass(frozen=True)
class Columns:
    """One tuple per Op field, index i for op i."""

    license: tuple[str, ...]
    kind: tuple[str, ...]
    status: tuple[int | None, ...]
    lease: tuple[str | None, ...]
    sent: tuple[float, ...]
    received: tuple[float, ...]
    expires: tuple[float | None, ...]
    stamp: tuple[float | None, ...]
    key: tuple[str | None, ...]

    def __len__(self) -> int:
        return len(self.sent)


def read_columns(ops: Sequence[Op]) -> Columns:
    if not ops:
        return Columns(*(() for _ in FIELDS))
    cols: list[Any] = list(zip(*map(attrgetter(*FIELDS), ops), strict=True))
    return Columns(*cols)
