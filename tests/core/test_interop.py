"""The per-SDK interoperability tally a run reports."""

from __future__ import annotations

import base64

from nacl.signing import SigningKey

from leasecheck.core.interop import NON_ASCII_WHY, Interop
from leasecheck.core.signing import KeyRing, public_key_b64, sdk_bytes

KEY = SigningKey(b"i" * 32)
RING = KeyRing([{"kid": "k1", "algorithm": "Ed25519", "public_key": public_key_b64(KEY), "status": "active"}])


def envelope(data):
    """Signed the TypeScript/Ruby way, as the reference server signs."""
    sig = base64.b64encode(KEY.sign(sdk_bytes(data)).signature).decode()
    return {"data": data, "signature": {"alg": "Ed25519", "kid": "k1", "value": sig}}


def test_ascii_answers_verify_in_every_sdk():
    i = Interop()
    for _ in range(3):
        i.observe("POST /checkout -> 200", envelope({"code": "a"}), RING)
    doc = i.to_json()
    assert [t["verified"] for t in doc["sdks"]] == [3, 3, 3]
    assert all(t["ok"] for t in doc["sdks"]) and doc["non_ascii_answers"] == 0


def test_non_ascii_answers_are_the_documented_python_disagreement():
    i = Interop()
    i.observe("POST /checkout -> 200", envelope({"code": "größe"}), RING)
    by = {t["sdk"]: t for t in i.to_json()["sdks"]}
    assert by["typescript"]["ok"] and by["ruby"]["ok"]
    py = by["python"]
    assert py["failed"] == py["failed_non_ascii_only"] == 1
    assert py["examples"] == [{"answer": "POST /checkout -> 200", "why": NON_ASCII_WHY}]
    assert NON_ASCII_WHY in py["verdict"]


def test_a_bad_signature_is_not_excused_as_non_ascii():
    env = envelope({"code": "größe"})
    env["data"]["code"] = "other-ß"
    i = Interop()
    i.observe("POST /checkout -> 200", env, RING)
    py = {t["sdk"]: t for t in i.to_json()["sdks"]}["python"]
    assert py["failed"] == 1 and py["failed_non_ascii_only"] == 0
    assert "do not verify" in py["verdict"] and py["examples"][0]["why"] != NON_ASCII_WHY


def test_summary_has_one_line_per_sdk():
    lines = Interop().summary_lines()
    assert len(lines) == 3 and all("no signed answer" in ln for ln in lines)
