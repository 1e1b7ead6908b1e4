"""A license's status over time, where certain."""

from __future__ import annotations

from leasecheck.core.model import HistoryBuilder, Model
from leasecheck.core.model.clock import make_timeline
from leasecheck.core.model.index import Index
from leasecheck.core.model.status import StatusTimeline

T0 = 1_700_000_000.0


def _status(b: HistoryBuilder) -> StatusTimeline:
    idx = Index(b.ops, make_timeline(b.ops, per_worker=False, tolerance=0.05), Model())
    return StatusTimeline(idx, idx.licenses["L"])


def test_spans_between_changes_are_certain():
    b = HistoryBuilder()
    cr = b.create(seats=1, at=0)
    s = b.status("suspend", 5, 5.1)
    r = b.status("reinstate", 8, 8.2)
    st = _status(b)
    assert [(sp.status, sp.evidence) for sp in st.spans] == [
        (None, []),
        ("active", [cr]),
        ("suspended", [s]),
        ("active", [r]),
    ]
    assert st.certainly_active(T0 + 1, T0 + 2) is not None
    assert st.certain(T0 + 6, T0 + 7).status == "suspended"  # type: ignore[union-attr]
    assert st.certain(T0 + 4.9, T0 + 5.05) is None  # the window touches the change
    assert [e[2] for e in st.enders()] == [s]


def test_overlapping_changes_leave_the_status_open_when_orders_disagree():
    b = HistoryBuilder()
    b.create(seats=1, at=0)
    b.status("suspend", 5, 5.5)
    b.status("reinstate", 5.1, 5.4)  # may come before or after the suspend
    st = _status(b)
    assert st.spans[-1].status is None
    assert st.certain(T0 + 6, T0 + 7) is None


def test_a_checkout_success_shows_an_unknown_span_was_active():
    b = HistoryBuilder()
    g = b.checkout("a", 1, 1.1)
    st = _status(b)
    sp = st.certainly_active(T0 + 3, T0 + 4)
    assert sp is not None and sp.inferred and sp.evidence == [g]


def test_an_unanswered_change_leaves_everything_after_it_open():
    b = HistoryBuilder()
    b.create(seats=1, at=0)
    b.status("suspend", 5, None, status=None)
    st = _status(b)
    assert st.certainly_active(T0 + 1, T0 + 2) is not None
    assert st.certain(T0 + 100, T0 + 101) is None
