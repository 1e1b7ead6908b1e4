"""The variants' own steps, directly: each makes its choice, and only that one
(the server-level proof is tests/gallery/test_variants.py and the matrix)."""

from __future__ import annotations

import pytest

from leasecheck.gallery.variant_steps import Z85, InFlightRefused, long_token, z85_token
from leasecheck.reference_server.errors import IDEMPOTENCY_IN_PROGRESS, ApiError
from leasecheck.reference_server.idempotency import Idempotency


def test_a_duplicate_while_the_first_is_in_flight_is_refused_409():
    idem = InFlightRefused(60.0, 409)
    with idem.in_flight("L", "checkout", "k"):
        with pytest.raises(ApiError) as refused, idem.in_flight("L", "checkout", "k"):
            pass
        assert (refused.value.status, refused.value.code) == (409, IDEMPOTENCY_IN_PROGRESS)
        with idem.in_flight("L", "checkin", "k"), idem.in_flight("M", "checkout", "k"):
            pass  # another endpoint, another license: not a duplicate
    with idem.in_flight("L", "checkout", "k"):
        pass  # the first is done: the key is free again (the stored answer replays)


def test_the_reference_server_lets_the_duplicate_wait():
    idem = Idempotency(60.0, 409)
    with idem.in_flight("L", "checkout", "k"), idem.in_flight("L", "checkout", "k"):
        pass


def test_token_lengths():
    short, long = z85_token(), long_token()
    assert short.startswith("llt_") and len(short) == 24 and set(short[4:]) <= set(Z85)
    assert long.startswith("llt_") and len(long) == 604
