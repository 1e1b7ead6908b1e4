"""Signature faults: answers signed over other bytes, by another key, or under another kid (SIG-*)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, ClassVar

from nacl.signing import SigningKey

from leasecheck.core.signing import ALG, public_key_b64, sign
from leasecheck.reference_server.envelopes import Envelopes


class SignsOtherBytes(Envelopes):
    """Signs `data` serialised with `dumps`, not the compact arrival-order JSON the SDKs verify."""

    dumps: ClassVar[dict[str, Any]] = {}

    def signature(self, data: Any) -> dict[str, str]:
        active = self.keys.active()
        raw = json.dumps(data, **self.dumps).encode("utf-8")  # BUG: not the bytes the SDKs verify
        return {
            "alg": ALG,
            "kid": active.kid,
            "value": base64.b64encode(active.signing_key.sign(raw).signature).decode(),
        }


class SignsSortedKeys(SignsOtherBytes):
    dumps: ClassVar[dict[str, Any]] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}


class SignsAsciiEscaped(SignsOtherBytes):
    dumps: ClassVar[dict[str, Any]] = {"separators": (",", ":")}


class SignsPrettyPrinted(SignsOtherBytes):
    dumps: ClassVar[dict[str, Any]] = {"indent": 2, "ensure_ascii": False}


class SignsWithUnpublishedKey(Envelopes):
    """Answers signed by a stale key baked into the build, under the published key's kid."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.stale = SigningKey.generate()

    def signature(self, data: Any) -> dict[str, str]:
        return sign(data, self.stale, self.keys.active().kid)  # BUG: not the published key


class SignsWithWrongKid(Envelopes):
    """The kid derived one way when signing and another when publishing."""

    def signature(self, data: Any) -> dict[str, str]:
        active = self.keys.active()
        kid = "ed25519-" + hashlib.sha256(public_key_b64(active.signing_key).encode()).hexdigest()[:16]  # BUG
        return sign(data, active.signing_key, kid)
