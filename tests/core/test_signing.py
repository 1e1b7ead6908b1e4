"""The official SDKs' byte rules, and verifying under each of them."""

from __future__ import annotations

import base64

import pytest
from nacl.signing import SigningKey

from leasecheck.core.signing import SDKS, KeyRing, SignatureError, is_ascii_data, public_key_b64, sdk_bytes, sign

KEY = SigningKey(b"k" * 32)
RING = KeyRing([{"kid": "k1", "algorithm": "Ed25519", "public_key": public_key_b64(KEY), "status": "active"}])


def envelope(data, sdk="typescript"):
    sig = KEY.sign(sdk_bytes(data, sdk)).signature
    return {"data": data, "signature": {"alg": "Ed25519", "kid": "k1", "value": base64.b64encode(sig).decode()}}


def test_typescript_and_ruby_keep_non_ascii_raw_python_escapes_it():
    data = {"b": "café\u2028", "a": 1}
    assert sdk_bytes(data) == sdk_bytes(data, "ruby") == '{"b":"café\u2028","a":1}'.encode()
    assert sdk_bytes(data, "python") == b'{"b":"caf\\u00e9\\u2028","a":1}'


def test_ascii_data_is_the_same_bytes_for_every_sdk():
    data = {"lease_token": "llt_x", "features": [{"code": "<&>", "enabled": True}]}
    assert len({sdk_bytes(data, sdk) for sdk in SDKS}) == 1
    assert is_ascii_data(data) and not is_ascii_data({"x": "ß"})


def test_unknown_sdk_is_refused():
    with pytest.raises(ValueError, match="unknown SDK"):
        sdk_bytes({}, "go")


def test_each_sdk_verifies_only_its_own_bytes_for_non_ascii_data():
    data = {"code": "日本語"}
    raw = RING.verify_each_sdk(envelope(data))
    assert raw["typescript"] is None and raw["ruby"] is None and "Python SDK" in (raw["python"] or "")
    escaped = RING.verify_each_sdk(envelope(data, "python"))
    assert escaped["python"] is None and escaped["typescript"] is not None


def test_one_signature_serves_every_sdk_for_ascii_data():
    assert set(RING.verify_each_sdk(envelope({"code": "export-pdf"})).values()) == {None}


def test_tampered_data_verifies_nowhere():
    env = envelope({"code": "a"})
    env["data"]["code"] = "b"
    assert all(why is not None for why in RING.verify_each_sdk(env).values())
    with pytest.raises(SignatureError):
        RING.verify(env, "python")


def test_sign_uses_the_typescript_rule():
    data = {"x": "é"}
    assert RING.verify({"data": data, "signature": sign(data, KEY, "k1")}).kid == "k1"


@pytest.mark.parametrize(
    "env",
    [
        envelope({"code": "日本語"}),
        envelope({"code": "日本語"}, "python"),
        envelope({"code": "export-pdf", "n": 1.0}),
        {**envelope({"code": "a"}), "data": {"code": "b"}},
        {**envelope({"code": "a"}), "data": {"x": float("nan")}},
    ],
    ids=["raw", "escaped", "ascii", "tampered", "not-json"],
)
def test_each_sdk_at_once_says_what_each_sdk_alone_says(env):
    """verify_each_sdk checks bytes two SDKs share once: the same verdict and reason per SDK."""

    def alone(sdk):
        try:
            RING.verify(env, sdk)
        except SignatureError as exc:
            return str(exc)
        return None

    assert RING.verify_each_sdk(env) == {sdk: alone(sdk) for sdk in SDKS}
