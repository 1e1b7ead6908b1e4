"""Cut a history into parts that can be judged apart: licenses share nothing but lease tokens.

Every rule looks at one license, except the cross-license rule and the help
it gives the owner's rules (`devices.lend_foreign`), which look at a token
that several licenses name. Those need each other only where another
license's op on the token succeeded or got no answer: a refused foreign op
changes nothing on either side (the lease rules find no acknowledgement of
that token in the refusing license and judge nothing). So licenses joined by
such ops form one *group*, every group is judged whole, and groups are dealt
to parts by size. Each part is a set of licenses; `indices` lists its ops.

All per-op work here runs in C (`map`, `compress` over the columns): cutting
costs a fraction of a pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import compress
from operator import ne

from .columns import Columns


def groups(cols: Columns, names: Iterable[str] | None = None) -> dict[str, str]:
    """license -> a representative of its group (licenses a shared token joins).
    `names`: every license of the history, in the order of their first op, if
    the caller has them already (one pass over a million ops saved)."""
    lic, lease, status = cols.license, cols.lease, cols.status
    first = dict(zip(reversed(lease), reversed(lic), strict=True))  # token -> first license naming it
    first.pop(None, None)
    foreign = compress(range(len(lic)), map(ne, map(first.get, lease, lic), lic))
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for i in foreign:
        st = status[i]
        if st is not None and not (200 <= st < 300 or st >= 500):
            continue  # refused (or not judged): nothing to share
        a, b = root(lic[i]), root(first[lease[i]])
        if a != b:
            parent[a] = b
    return {name: root(name) for name in (dict.fromkeys(lic) if names is None else names)}


def split(cols: Columns, parts: int) -> list[set[str]]:
    """Up to `parts` license sets of about equal op counts, each a union of groups."""
    sizes = Counter(cols.license)
    by_group: dict[str, list[str]] = {}
    for name, g in groups(cols, sizes).items():  # a Counter keeps its keys in first-op order
        by_group.setdefault(g, []).append(name)
    weighted = sorted(((sum(sizes[n] for n in names), names) for names in by_group.values()), reverse=True)
    n = max(1, min(parts, len(weighted)))
    load = [0] * n
    out: list[set[str]] = [set() for _ in range(n)]
    for weight, names in weighted:
        k = load.index(min(load))
        load[k] += weight
        out[k].update(names)
    return out


def indices(cols: Columns, licenses: set[str]) -> list[int]:
    """The ops of `licenses`, in history order."""
    return list(compress(range(len(cols)), map(licenses.__contains__, cols.license)))
