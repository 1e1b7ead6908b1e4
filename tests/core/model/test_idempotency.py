"""One key, one effect, one answer — with every honest freedom a replay has."""

from __future__ import annotations

from leasecheck.core.model import Accepted, HistoryBuilder, Model, check_history


def _granted() -> tuple[HistoryBuilder, int]:
    b = HistoryBuilder()
    b.create(seats=2)
    g = b.checkout("a", 0, 0.1, expires=30, key="k1")
    return b, g


def test_replays_with_new_request_ids_and_current_expiry_are_legal_and_take_no_seat():
    b = HistoryBuilder()
    b.create(seats=1)
    g = b.checkout("a", 0, 0.1, expires=30, key="k1")
    b.replay(g, 0.05, 0.2, request_id="req-other")  # concurrent duplicate
    b.heartbeat("a", 10, 10.1, expires=40.1)
    b.replay(g, 11, 11.1, request_id="req-third", expires=40.1, answer="current-state")
    v = check_history(b.history)
    assert v.ok, v.render()


def test_two_successes_of_one_key_with_different_bodies_are_a_key_reuse():
    b, g = _granted()
    r = b.replay(g, 1, 1.1, body="bind:other-device")
    assert b.sole_violation("key_reuse_accepted").roles() == {"first": [g], "replay": [r]}


def test_a_key_reused_with_another_body_and_refused_is_honest():
    b, g = _granted()
    b.replay(g, 1, 1.1, body="bind:other-device", status=422, code="IDEMPOTENCY_CONFLICT")
    b.replay(g, 2, 2.1, body="bind:other-device", status=409, code=None)
    assert check_history(b.history).ok


def test_a_replay_answering_another_lease_is_a_mismatch():
    b, g = _granted()
    r = b.replay(g, 1, 1.1, lease="b")
    v = check_history(b.history)
    assert v.counts["replay_mismatch"] == 1
    assert v.of_kind("replay_mismatch")[0].roles() == {"first": [g], "replay": [r]}


def test_a_replay_answering_another_device_is_a_mismatch():
    b, g = _granted()
    b.replay(g, 1, 1.1, device_id="id-someone-else")
    assert check_history(b.history).counts == {"replay_mismatch": 1}


def test_other_data_in_a_replay_is_accepted_unless_same_data_is_required():
    b, g = _granted()
    b.replay(g, 1, 1.1, answer="re-signed, current expiry")
    assert check_history(b.history).ok
    strict = Model(accepted=Accepted(replay_answer="same_data"))
    b2, g2 = _granted()
    b2.ops[g2].answer_digest = "stored"
    b2.replay(g2, 1, 1.1, answer="other")
    assert check_history(b2.history, strict).counts == {"replay_mismatch": 1}
    b3, g3 = _granted()
    b3.ops[g3].answer_digest = "stored"
    b3.replay(g3, 1, 1.1)
    assert check_history(b3.history, strict).ok


def test_a_replay_refused_while_its_lease_is_live_is_wrongful():
    b, g = _granted()
    r = b.replay(g, 5, 5.1, status=409, code="FLOATING_LIMIT_EXCEEDED")
    assert b.sole_violation("replay_refused").roles() == {"first": [g], "refused": [r]}


def test_a_replay_refused_while_the_first_is_in_flight_or_after_checkin_is_honest():
    b, g = _granted()
    b.replay(g, 0.05, 0.2, status=409, code="REQUEST_IN_PROGRESS")
    assert check_history(b.history).ok
    b, g = _granted()
    b.checkin("a", 3, 3.1)
    b.replay(g, 5, 5.1, status=404, code="LEASE_NOT_FOUND")
    assert check_history(b.history).ok


def test_a_replay_refused_while_another_replay_is_in_flight_is_honest():
    # Two replays at once, long after the first: the server is running one of them
    # when the other arrives, and may answer it 409 "in progress" (IDEM-08).
    b, g = _granted()
    b.replay(g, 5, 5.3)
    b.replay(g, 5.1, 5.2, status=409, code="IDEMPOTENCY_IN_PROGRESS")
    assert check_history(b.history).ok
    # Alone, the same refusal is wrongful: nothing else with this key was in flight.
    b, g = _granted()
    b.replay(g, 5, 5.1)
    r = b.replay(g, 5.2, 5.3, status=409, code="IDEMPOTENCY_IN_PROGRESS")
    assert b.sole_violation("replay_refused").roles()["refused"] == [r]


def test_a_success_after_a_refusal_with_the_same_key_is_honest():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=5)
    r = b.refuse_checkout(1, 1.1, key="k2", device="d2")
    b.replay(r, 6, 6.1, status=200, lease="b", expires=36, device_id="id-d2")
    assert check_history(b.history).ok


def test_uses_of_a_key_further_apart_than_its_retention_are_unrelated():
    b, g = _granted()
    b.checkin("a", 1, 1.1)
    b.replay(g, 100, 100.1, lease="b", body="bind:else", expires=130)
    assert check_history(b.history).counts == {"key_reuse_accepted": 1}
    short = Model(accepted=Accepted(key_retention=60.0))
    assert check_history(b.history, short).ok


def test_checkin_keys_have_one_effect_too():
    b = HistoryBuilder()
    b.create(seats=2)
    b.checkout("a", 0, 0.1, expires=30)
    b.checkout("b", 0, 0.1, expires=30)
    c = b.checkin("a", 1, 1.1, key="kc")
    d = b.checkin("b", 2, 2.1, key="kc")
    assert b.sole_violation("key_reuse_accepted").roles() == {"first": [c], "replay": [d]}


def test_one_key_in_two_licenses_is_two_requests():
    b = HistoryBuilder()
    b.create(seats=1)
    b.create(seats=1, license="M")
    b.checkout("a", 0, 0.1, expires=30, key="k")
    b.checkout("b", 0, 0.1, expires=30, key="k", license="M")
    assert check_history(b.history).ok
