"""Request parsing (reference_server/validation.py) below HTTP: what one body is taken to mean."""

from __future__ import annotations

import itertools

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
