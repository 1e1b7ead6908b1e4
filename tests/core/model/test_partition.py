"""Parts of a history judged apart: licenses a shared token joins stay together."""

from __future__ import annotations

from leasecheck.core.model import HistoryBuilder
from leasecheck.core.model.columns import read_columns
from leasecheck.core.model.partition import groups, indices, split


def _three_licenses(foreign_status: int | None) -> HistoryBuilder:
    b = HistoryBuilder("A")
    b.create(seats=1)
    b.create(seats=1, license="B")
    b.create(seats=1, license="C")
    b.checkout("a", 0, 0.1, expires=10)
    b.checkout("c", 0, 0.1, expires=10, license="C")
    b.heartbeat("a", 1, 1.1, status=foreign_status, license="B")  # B presents A's token
    return b


def test_a_refused_foreign_token_joins_nothing():
    g = groups(read_columns(_three_licenses(404).ops))
    assert len(set(g.values())) == 3


def test_a_foreign_token_accepted_or_unanswered_joins_the_two_licenses():
    for status in (200, None, 503):
        g = groups(read_columns(_three_licenses(status).ops))
        assert g["A"] == g["B"] != g["C"], status


def test_split_deals_whole_groups_by_size_and_indices_keep_history_order():
    b = _three_licenses(200)
    cols = read_columns(b.ops)
    parts = split(cols, 2)
    assert sorted(map(sorted, parts)) == [["A", "B"], ["C"]]
    assert indices(cols, {"A", "B"}) == [0, 1, 3, 5]
    assert len(split(cols, 8)) == 2  # never more parts than groups
