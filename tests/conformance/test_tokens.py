"""tokens: LIFE-06 fails derived tokens, never an honest length or alphabet."""

from __future__ import annotations

import itertools
import secrets

import pytest

from leasecheck.conformance.tokens import DERIVED_BITS, alphabet_bits, common_prefix, differing, token_pairs
from leasecheck.gallery.variant_steps import long_token, z85_token
from leasecheck.reference_server.leases import new_lease_token


def weakest(tokens: list[str]) -> float:
    return min(bits for _, _, bits in token_pairs(tokens))


@pytest.mark.parametrize(
    "make",
    [
        new_lease_token,
        z85_token,  # 20 characters: 128 bits
        long_token,
        lambda: "llt_" + secrets.token_hex(8),  # 64 bits in hex
        lambda: "llt_live_" + secrets.token_hex(16),  # a structured prefix
        lambda: secrets.token_urlsafe(16),  # no prefix at all
    ],
)
def test_random_tokens_of_any_honest_length_pass(make):
    for _ in range(50):
        assert weakest([make() for _ in range(8)]) >= DERIVED_BITS


def test_a_clock_and_a_counter_are_caught():
    counter = itertools.count()
    tokens = [f"llt_{1764633600000 + 7 * i:x}{next(counter):04x}" for i in range(8)]
    assert weakest(tokens) < DERIVED_BITS


def test_a_counter_after_a_random_prefix_is_caught():
    head = secrets.token_urlsafe(24)
    assert weakest([f"llt_{head}{i:03d}" for i in range(8)]) < DERIVED_BITS


def test_the_pieces():
    assert common_prefix(["llt_ab", "llt_ac", "llt_"]) == 4 and common_prefix([]) == 0
    assert differing("llt_aXb", "llt_aYb") == 1 and differing("abc", "abcd") == 1
    assert alphabet_bits("0123") == pytest.approx(3.32, abs=0.01) and alphabet_bits("a-_Z") == 6.0
    assert alphabet_bits("é") == 16.0
