"""Witnesses read as a small timeline and as JSON."""

from __future__ import annotations

import json

from leasecheck.core.model import KINDS, REFUSAL, UNSAFE, HistoryBuilder, check_history


def _over_grant():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 1, expires=10)
    b.checkout("b", 2, 3, expires=12)
    return check_history(b.history).violations[0]


def test_every_kind_has_a_direction():
    assert set(KINDS.values()) == {UNSAFE, REFUSAL}
    assert KINDS["over_grant"] == UNSAFE and KINDS["capacity_refused"] == REFUSAL


def test_json_has_times_relative_to_the_first_send_and_op_indices():
    v = _over_grant()
    j = v.to_json()
    json.dumps(j)  # plain data
    assert j["kind"] == "over_grant" and j["direction"] == UNSAFE and j["capacity"] == 1
    ops = {o["index"]: o for o in j["ops"]}
    assert set(ops) == {0, 1, 2}
    assert ops[0]["sent"] == 0.0  # the create op sent first (at -1 on the builder's clock)
    assert ops[2]["sent"] == 3.0 and ops[2]["received"] == 4.0 and ops[2]["expires"] == 13.0
    assert j["window"] == [4.0, 4.0]
    assert ops[1]["role"] == "held" and ops[1]["request_id"]


def test_the_text_timeline_has_one_line_per_op_with_its_bar():
    text = _over_grant().render()
    lines = text.splitlines()
    assert lines[0].startswith("over_grant on license L (1 seat): 2 leases certainly held")
    assert "at +4.000s" in lines[1]
    assert len(lines) == 5
    assert all("|" in line for line in lines[2:4])  # the instant, on the ops that do not cover it
    assert all(("[" in line or "I" in line) for line in lines[2:])
    assert "#2" in lines[4] and "checkout  200 b" in lines[4] and "[held]" in lines[4]


def test_an_unanswered_op_is_drawn_open_ended():
    from leasecheck.core.history import Op
    from leasecheck.core.model import Violation, WitnessOp

    lost = WitnessOp.of(7, Op("checkout", "L", 0, 0, None), "possibly held", "no answer", 0.0, float("inf"), None)
    done = WitnessOp.of(8, Op("checkout", "L", 1, 2, 409), "refused", "refused", 1.0, 2.0, None)
    text = Violation("capacity_refused", "L", "m", [lost, done], (1.0, 2.0)).render()
    assert "→never" in text and "…" in text
    assert Violation("capacity_refused", "L", "m", [lost, done]).to_json()["ops"][0]["received"] is None
