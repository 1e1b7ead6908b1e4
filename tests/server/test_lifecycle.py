"""One lease from checkout to checkin, its data, and its signatures."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess

import pytest

from leasecheck.conformance.scenarios.test_lifecycle import REQUIRED_CHECKOUT
from leasecheck.core.client import System, hardware_binding
from leasecheck.core.signing import KeyRing, SignatureError

CHECKOUT_KEYS = list(REQUIRED_CHECKOUT)  # the contract's required checkout fields, one list for suite and tests
MILLIS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
AWKWARD = [
    {"code": "café-ünïcödé", "enabled": True, "quota": 5},
    {"code": "<script>&amp;</script>", "enabled": False},
    {"code": "line\u2028separator\u2029para", "enabled": True},
    {"code": "emoji-🎫", "enabled": True},
]


def test_checkout_heartbeat_checkin(provision, waits, sigwatch):
    p = provision(seats=2, timeout_minutes=10, license_type="subscription")
    out = p.client.checkout()
    assert out.status == 200, out.describe()
    data = out.data
    assert list(data) == CHECKOUT_KEYS
    assert data["license_id"] == p.license_id
    assert data["license_type"] == "subscription"
    assert data["status"] == "active"
    assert data["lease_token"].startswith("llt_") and len(data["lease_token"]) >= 4 + 22
    for field in ("issued_at", "lease_expires_at"):
        assert MILLIS_Z.match(data[field]), data[field]
    assert MILLIS_Z.match(out.json["meta"]["timestamp"])
    issued = waits.parse_ts(data["issued_at"])
    expires = waits.parse_ts(data["lease_expires_at"])
    assert expires == pytest.approx(issued + 10 * 1.0, abs=0.0005)  # 10 policy minutes of 1 s
    assert issued <= waits.parse_ts(out.json["meta"]["timestamp"]) < expires

    hb = p.client.heartbeat(data["lease_token"])
    assert hb.status == 200, hb.describe()
    assert "lease_token" not in hb.data
    assert hb.data["device_id"] == data["device_id"]
    assert hb.data["license_id"] == p.license_id
    assert waits.parse_ts(hb.data["lease_expires_at"]) > expires  # a later heartbeat extends

    ci = p.client.checkin(data["lease_token"])
    assert ci.status == 200, ci.describe()
    assert ci.data["license_id"] == p.license_id
    # A checkin answer's lease_expires_at is the instant the lease ended.
    assert ci.data["lease_expires_at"] == ci.data["issued_at"]
    after = p.client.heartbeat(data["lease_token"])
    assert (after.status, after.error_code) == (404, "LEASE_NOT_FOUND")
    assert sigwatch.verified == 3


def test_license_expires_at_is_echoed(provision):
    p = provision(expires_at="2099-12-31T23:00:00+01:00")
    data = p.client.checkout().data
    assert data["expires_at"] == "2099-12-31T22:00:00.000Z"
    assert list(data).index("expires_at") == list(data).index("issued_at") + 1


def test_same_fingerprint_again_returns_the_held_lease_extended(provision, waits):
    p = provision(seats=1)
    body = hardware_binding()
    first = p.client.checkout(body)
    second = p.client.checkout(body)  # new Idempotency-Key
    assert second.status == 200, second.describe()
    assert second.lease_token == first.lease_token
    assert second.data["device_id"] == first.data["device_id"]
    assert waits.parse_ts(second.data["lease_expires_at"]) >= waits.parse_ts(first.data["lease_expires_at"])
    assert p.client.checkout().status == 409  # still only one seat taken


def test_container_binding(provision):
    p = provision(seats=1)
    body = {"is_container": True, "cluster_id": "c1", "namespace": "ns", "pod_name": "pod-0"}
    first = p.client.checkout(body)
    assert first.status == 200, first.describe()
    assert p.client.checkout(dict(body)).lease_token == first.lease_token
    assert p.client.checkout({**body, "pod_name": "pod-1"}).status == 409


def test_containers_whose_fields_join_alike_are_two_bindings(provision):
    # Joined with "\x1f", both were "a\x1fb\x1f\x1f\x1f": the second container got the first one's lease.
    p = provision(seats=1)
    first = p.client.checkout({"is_container": True, "cluster_id": "a\x1fb", "namespace": ""})
    assert first.status == 200, first.describe()
    second = p.client.checkout({"is_container": True, "cluster_id": "a", "namespace": "b\x1f"})
    assert second.status == 409, second.describe()


def test_signatures_over_awkward_characters(provision, sigwatch, http):
    p = provision(features=AWKWARD)
    out = p.client.checkout()
    assert out.data["features"] == AWKWARD
    raw = out.response_body.decode("utf-8")
    assert "café" in raw and "\u2028" in raw  # sent as raw UTF-8, not \\u escapes
    hb = p.client.heartbeat(out.lease_token)
    ci = p.client.checkin(out.lease_token)
    assert hb.status == ci.status == 200
    assert sigwatch.verified == 3

    ring = KeyRing(System(http).public_keys().data)
    tampered = json.loads(out.response_body)
    tampered["data"]["features"][0]["code"] = "cafe-unicode"
    with pytest.raises(SignatureError):
        ring.verify(tampered)


NODE_VERIFY = r"""
const crypto = require('crypto');
let raw = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', c => raw += c);
process.stdin.on('end', () => {
  const body = JSON.parse(raw);
  const str = JSON.stringify(body.data);
  const pub = crypto.createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(process.argv[1], 'base64')]),
    format: 'der', type: 'spki'});
  const ok = crypto.verify(null, Buffer.from(str, 'utf8'), pub, Buffer.from(body.signature.value, 'base64'));
  process.stdout.write(ok ? 'verified' : 'BAD SIGNATURE');
  process.exit(ok ? 0 : 1);
});
"""


RUBY_VERIFY = r"""
require 'json'
require 'openssl'
require 'base64'
body = JSON.parse(STDIN.read)
str = JSON.generate(body['data'])
der = ['302a300506032b6570032100'].pack('H*') + Base64.strict_decode64(ARGV[0])
pub = OpenSSL::PKey.read(der)
ok = pub.verify(nil, Base64.strict_decode64(body['signature']['value']), str.encode('UTF-8'))
print(ok ? 'verified' : 'BAD SIGNATURE')
exit(ok ? 0 : 1)
"""


#: How each official SDK verifies: re-serialise `data` with its own JSON encoder
#: (JSON.stringify / JSON.generate) and verify those bytes. (tool, script, package)
SDK_VERIFIERS = {
    "typescript-sdk": ("node", NODE_VERIFY, "nodejs"),
    "ruby-sdk": ("ruby", RUBY_VERIFY, "ruby"),
}


def sdk_verify(tool: str, script: str, raw_body: bytes, public_key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool, "-e", script, public_key], input=raw_body.decode("utf-8"), capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize("sdk", SDK_VERIFIERS)
def test_signatures_verify_as_the_official_sdks_verify_them(provision, http, sdk):
    name, script, package = SDK_VERIFIERS[sdk]
    tool = shutil.which(name)
    if tool is None:
        pytest.skip(f"{name} is not installed: the {sdk} cross-check needs it (apt-get install {package})")
    p = provision(features=AWKWARD)
    out = p.client.checkout()
    kid = out.json["signature"]["kid"]
    key = next(k for k in System(http).public_keys().data if k["kid"] == kid)
    assert len(base64.b64decode(key["public_key"])) == 32
    result = sdk_verify(tool, script, out.response_body, key["public_key"])
    assert (result.returncode, result.stdout) == (0, "verified"), result.stderr
    # ... and the same check refuses a tampered body, so it is not vacuous.
    tampered = out.response_body.replace("café".encode(), b"cafe")
    assert sdk_verify(tool, script, tampered, key["public_key"]).stdout == "BAD SIGNATURE"
