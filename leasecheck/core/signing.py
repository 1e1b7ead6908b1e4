"""Ed25519 signatures over `data`, exactly as the official SDKs verify them.

Every official SDK parses the response, re-serialises the `data` member as
compact JSON with keys in arrival order, and verifies the signature over
those bytes. They differ in one point: the TypeScript SDK (JSON.stringify)
and the Ruby SDK (JSON.generate) leave non-ASCII characters unescaped and
encode UTF-8; the Python SDK (`licensekit-sdk`, `json.dumps(data,
separators=(",", ":"))`) escapes every non-ASCII character as `\\uXXXX`. For
ASCII-only data the three agree; for data with any non-ASCII character no
signature satisfies the Python SDK and the other two at once.

A server interoperates only if it signs the bytes the SDKs verify, so the
signer (reference server) and the verifier (suite) share `sdk_bytes`; the
default rule is the TypeScript/Ruby one, and `verify(..., sdk=...)` checks
one SDK's rule.
"""

from __future__ import annotations

import base64
import functools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

ALG = "Ed25519"


def _js_number(value: float) -> Any:
    # JSON.stringify prints integral doubles without a fraction (1.0 -> "1").
    if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
        return int(value)
    return value


def _normalise(value: Any) -> Any:
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


#: The official SDKs, by the name reports use for them.
SDKS: dict[str, str] = {
    "typescript": "TypeScript SDK (@licensekit/sdk)",
    "ruby": "Ruby SDK (licensekit-ruby)",
    "python": "Python SDK (licensekit-sdk)",
}


def sdk_bytes(data: Any, sdk: str = "typescript") -> bytes:
    """The bytes an official SDK verifies: compact JSON in arrival key order.

    TypeScript and Ruby: non-ASCII left raw, UTF-8 (integral numbers print as
    JavaScript prints them). Python: non-ASCII escaped as `\\uXXXX`, the way
    `licensekit.verification` serialises (numbers as Python prints them)."""
    if sdk == "python":
        return json.dumps(data, separators=(",", ":")).encode("utf-8")
    if sdk not in SDKS:
        raise ValueError(f"unknown SDK {sdk!r}; SDKs are {', '.join(SDKS)}")
    text = json.dumps(_normalise(data), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def is_ascii_data(data: Any) -> bool:
    """True when the signed bytes hold no non-ASCII text (where the SDKs agree)."""
    return sdk_bytes(data).isascii()


def sign(data: Any, key: SigningKey, kid: str) -> dict[str, str]:
    """The envelope's `signature` member for `data`."""
    sig = key.sign(sdk_bytes(data)).signature
    return {"alg": ALG, "kid": kid, "value": base64.b64encode(sig).decode("ascii")}


def public_key_b64(key: SigningKey) -> str:
    return base64.b64encode(bytes(key.verify_key)).decode("ascii")


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    algorithm: str
    public_key: str
    status: str

    def verify_key(self) -> VerifyKey:
        return self._verify_key

    @functools.cached_property
    def _verify_key(self) -> VerifyKey:
        """Decoded once per published key (every signed answer of a run is verified with it)."""
        raw = base64.b64decode(self.public_key, validate=True)
        if len(raw) != 32:
            raise ValueError(f"public key {self.kid!r} is {len(raw)} bytes, not 32")
        return VerifyKey(raw)


class SignatureError(Exception):
    """Why an envelope's signature does not verify, in one sentence."""


class KeyRing:
    """Published keys by kid, as fetched from /api/v1/system/public-keys."""

    def __init__(self, keys: Iterable[Mapping[str, Any]] = ()) -> None:
        self._keys: dict[str, PublishedKey] = {}
        self.update(keys)

    def update(self, keys: Iterable[Mapping[str, Any]]) -> None:
        for k in keys:
            self._keys[str(k.get("kid"))] = PublishedKey(
                kid=str(k.get("kid")),
                algorithm=str(k.get("algorithm")),
                public_key=str(k.get("public_key")),
                status=str(k.get("status")),
            )

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def get(self, kid: str) -> PublishedKey | None:
        return self._keys.get(kid)

    def kids(self) -> list[str]:
        return list(self._keys)

    def verify(
        self, envelope: Mapping[str, Any], sdk: str = "typescript", _seen: dict[bytes, str | None] | None = None
    ) -> PublishedKey:
        """Verify like the SDK `sdk` does; return the key used or raise SignatureError.
        `_seen` (verify_each_sdk): outcomes by signed bytes, so bytes two SDKs share are
        checked once."""
        sig = envelope.get("signature")
        if not isinstance(sig, Mapping):
            raise SignatureError("envelope has no signature object")
        if sig.get("alg") != ALG:
            raise SignatureError(f"signature.alg is {sig.get('alg')!r}, SDKs accept only {ALG!r}")
        kid = sig.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise SignatureError(f"signature.kid {kid!r} is not published (published: {self.kids()})")
        if key.algorithm != ALG:
            raise SignatureError(f"key {kid!r} has algorithm {key.algorithm!r}, SDKs accept only {ALG!r}")
        try:
            raw_sig = base64.b64decode(str(sig.get("value")), validate=True)
        except ValueError as exc:
            raise SignatureError(f"signature.value is not base64: {exc}") from None
        if "data" not in envelope:
            raise SignatureError("envelope has no data member")
        failure = self._check(key, envelope["data"], sdk, raw_sig, _seen)
        if failure is not None:
            who = "the SDKs do" if sdk == "typescript" else f"the {SDKS[sdk]} does"
            raise SignatureError(f"signature by {kid!r} does not verify over data serialised as {who} ({failure})")
        return key

    @staticmethod
    def _check(
        key: PublishedKey, data: Any, sdk: str, raw_sig: bytes, seen: dict[bytes, str | None] | None
    ) -> str | None:
        """None when the signature holds over `sdk`'s bytes of `data`, else the failure's class name."""
        try:
            signed = sdk_bytes(data, sdk)
        except ValueError as exc:
            return exc.__class__.__name__
        if seen is not None and signed in seen:
            return seen[signed]
        try:
            key.verify_key().verify(signed, raw_sig)
            failure = None
        except (BadSignatureError, ValueError) as exc:
            failure = exc.__class__.__name__
        if seen is not None:
            seen[signed] = failure
        return failure

    def verify_each_sdk(self, envelope: Mapping[str, Any]) -> dict[str, str | None]:
        """For every official SDK: None when it verifies the envelope, else why not."""
        out: dict[str, str | None] = {}
        seen: dict[bytes, str | None] = {}  # TypeScript and Ruby sign the same bytes; ASCII data, all three
        for sdk in SDKS:
            try:
                self.verify(envelope, sdk, seen)
                out[sdk] = None
            except SignatureError as exc:
                out[sdk] = str(exc)
        return out
