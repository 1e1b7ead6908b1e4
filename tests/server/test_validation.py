"""Request parsing (reference_server/validation.py): what one body is taken to mean, and why one is refused."""

from __future__ import annotations

import itertools

import pytest

from leasecheck.core.client import Exchange
from leasecheck.reference_server.validation import CONTAINER_FIELDS, binding_identity


def test_different_container_fields_are_different_identities() -> None:
    # The fields are free text: a separator a join would use, or JSON's quotes and brackets, may be in any.
    texts = ["", "a", "b", "a\x1f", "\x1fb", "a\x1fb", "b\x1f", '"', '","', "\\", "]"]
    seen: dict[str, tuple[str, ...]] = {}
    for fields in itertools.product(texts, repeat=2):
        for where in itertools.combinations(CONTAINER_FIELDS, 2):
            if not any(fields):
                continue
            body = {"is_container": True, **dict(zip(where, fields, strict=True))}
            parts = tuple(str(body.get(f, "")) for f in CONTAINER_FIELDS)
            identity = binding_identity(body)
            assert seen.setdefault(identity, parts) == parts, identity
    assert binding_identity({"fingerprint": "x"}) != binding_identity({"is_container": True, "cluster_id": "x"})


@pytest.mark.parametrize("sign", ["", "-"], ids=["positive", "negative"])
def test_a_number_with_too_many_digits_is_refused_with_a_reason_of_our_own(provision, sign: str) -> None:
    # The message was Python's, advising sys.set_int_max_str_digits() to a client that cannot call it.
    p = provision()

    def checkout(digits: int) -> Exchange:
        content = f'{{"fingerprint": "fp", "extra": [1, {sign}{"9" * digits}]}}'.encode()
        return p.client.checkout(content=content, headers={"Content-Type": "application/json"})

    for digits in (4301, 10_000):
        ex = checkout(digits)
        assert (ex.status, ex.error_code) == (400, "INVALID_JSON"), ex.describe()
        assert ex.json["error"]["message"] == "request body holds a number with more than 4300 digits"
    ex = checkout(4300)  # parsed: then refused for its unknown field
    assert (ex.status, ex.error_code) == (400, "VALIDATION_ERROR"), ex.describe()
