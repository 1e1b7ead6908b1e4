"""core/redact.py: a registered secret is redacted in the forms messages quote it in."""

from __future__ import annotations

import json

import pytest

from leasecheck.core.redact import REDACTED, redact_text, register_secret


@pytest.mark.parametrize("secret", ["abc\ndef", "tökén-secret", 'quo"te\tsecret'])
def test_a_secret_is_redacted_raw_and_as_a_repr_or_json_quotes_it(secret):
    register_secret(secret)
    for text in (
        f"token {secret} seen",
        f"Illegal header value {('Bearer ' + secret).encode('utf-8')!r}",  # h11's message
        f"value {secret!r}",
        json.dumps({"detail": secret}),
        json.dumps({"detail": secret}, ensure_ascii=False),
    ):
        out = redact_text(text)
        assert REDACTED in out, out
        for leftover in (secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]):
            assert leftover not in out, out
