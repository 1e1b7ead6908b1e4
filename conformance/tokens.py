"""LIFE-06: whether lease tokens look like random draws, by what a client can see.

A lease token is a bearer credential, but entropy cannot be measured from a
handful of tokens, and the facts leave a token's length open (128 random bits
fit in 20 printable characters). What can be seen is a token derived from
another: two tokens that differ, past their common prefix and suffix, in too
few characters to hold a random draw, whatever alphabet they use. The bound is
generous (the smallest usual alphabet holding the characters, counted in
full), so an honest token is never judged short.
"""

from __future__ import annotations

import math
import string

#: LIFE-06: two tokens whose differing characters could hold fewer bits than this are not two
#: random draws (a random token of 64 bits or more shows fewer with a chance below 2^-20).
DERIVED_BITS = 40
#: Character classes, smallest first: a token's characters are judged by the first that holds them all.
ALPHABETS = (
    "0123456789",
    "0123456789abcdef",
    "0123456789ABCDEF",
    "0123456789abcdefghijklmnopqrstuvwxyz",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    string.ascii_letters + string.digits,
    string.ascii_letters + string.digits + "-_",
    string.ascii_letters + string.digits + "+/=",
    string.printable.strip(),
)


def alphabet_bits(chars: str) -> float:
    """Bits one character can carry, in the smallest usual alphabet holding all of `chars`
    (an upper bound: the most a token drawn from that alphabet can hold)."""
    for alphabet in ALPHABETS:
        if set(chars) <= set(alphabet):
            return math.log2(len(alphabet))
    return 16.0  # beyond printable ASCII: generously, a 16-bit code unit


def common_prefix(texts: list[str]) -> int:
    """Length of the prefix every one of `texts` shares."""
    shortest = min(texts, key=len, default="")
    return next((i for i, ch in enumerate(shortest) if any(t[i] != ch for t in texts)), len(shortest))


def differing(a: str, b: str) -> int:
    """Characters in which `a` and `b` differ once their common prefix and suffix are set aside."""
    head = common_prefix([a, b])
    tail = common_prefix([a[head:][::-1], b[head:][::-1]])
    return max(len(a), len(b)) - head - tail


def token_pairs(tokens: list[str]) -> list[tuple[str, str, float]]:
    """Every pair of tokens and the most bits their difference could hold (the alphabet judged
    on what follows the prefix all tokens share, such as `llt_`)."""
    shared = common_prefix(tokens)
    bits = alphabet_bits("".join(t[shared:] for t in tokens))
    return [(a, b, differing(a, b) * bits) for i, a in enumerate(tokens) for b in tokens[i + 1 :]]
