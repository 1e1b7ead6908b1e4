"""state.py: what a run accumulates, field by field."""

from __future__ import annotations

from leasecheck.conformance.settings import Settings
from leasecheck.conformance.state import RunState
from leasecheck.core.client import Exchange
from leasecheck.core.envelope import Finding


def answer(status: int = 200) -> Exchange:
    return Exchange(
        "GET", "/health", {}, None, sent_at=1.0, received_at=1.1, status=status, response_body=b'{"status":"ok"}'
    )


def test_universal_checks_count_passes_and_record_failures_for_the_scenario_running() -> None:
    st = RunState(Settings())
    st.current = "scenarios/test_x.py::test_y"
    ex = answer()
    st.on_finding(ex, [Finding("ENV-01", True, ""), Finding("ENV-02", False, "no meta")])
    assert st.observed_ok == {"ENV-01": 1}
    [record] = st.records
    assert (record.requirement, record.ok, record.message, record.test) == (
        "ENV-02",
        False,
        "no meta",
        "scenarios/test_x.py::test_y",
    )
    assert record.evidence == [ex.evidence()]
    assert st.coverage.to_json([])["statuses"]["documented_seen"] == 1  # every answer counts for coverage


def test_the_generated_summary_has_a_field_of_its_own() -> None:
    st = RunState(Settings())
    assert st.generated == {} and st.summary_lines == []
    st.generated.update({"seed": 1})  # as scenarios/test_generated.py writes it
    assert st.generated == {"seed": 1} and not hasattr(st, "extra")  # no untyped bag
