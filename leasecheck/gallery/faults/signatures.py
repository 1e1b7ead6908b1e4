"""Signature faults: answers signed over other bytes, by another key, or under another kid (SIG-*)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, ClassVar

from nacl.signing import SigningKey

from leasecheck.core.signing import ALG, public_key_b64, sign
from leasecheck.reference_server.envelopes import Envelopes

from . import bug


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


@bug("sign-sorted-keys", "SIG-01")
class SignsSortedKeys(SignsOtherBytes):
    """Data is signed serialised with sorted keys, the SDKs verify keys in arrival order."""

    dumps: ClassVar[dict[str, Any]] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}


@bug("sign-ascii-escaped", "SIG-03")
class SignsAsciiEscaped(SignsOtherBytes):
    """Data is signed as Python's json.dumps default prints it: non-ASCII escaped as \\uXXXX, which the SDKs do not do;
    only answers holding such text fail.
    """

    dumps: ClassVar[dict[str, Any]] = {"separators": (",", ":")}


@bug("sign-pretty-printed", "SIG-01")
class SignsPrettyPrinted(SignsOtherBytes):
    """Data is signed pretty-printed (indented), the SDKs verify compact JSON."""

    dumps: ClassVar[dict[str, Any]] = {"indent": 2, "ensure_ascii": False}


@bug("unpublished-signing-key", "SIG-01")
class SignsWithUnpublishedKey(Envelopes):
    """Answers are signed by a stale key baked into the build, under the kid of the published key."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.stale = SigningKey.generate()

    def signature(self, data: Any) -> dict[str, str]:
        return sign(data, self.stale, self.keys.active().kid)  # BUG: not the published key


@bug("wrong-kid", "SIG-02")
class SignsWithWrongKid(Envelopes):
    """The kid is derived one way when signing (a hash of the base64 text) and another when publishing (a hash of the
    raw key), so no published key has it.
    """

    def signature(self, data: Any) -> dict[str, str]:
        active = self.keys.active()
        kid = "ed25519-" + hashlib.sha256(public_key_b64(active.signing_key).encode()).hexdigest()[:16]  # BUG
        return sign(data, active.signing_key, kid)
