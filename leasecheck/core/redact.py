"""Secrets never reach a report or a log: one place redacts them all.

License keys and bearer tokens are replaced outright. Lease tokens are
replaced by a short stable digest (`llt_…#3fa2c1`) so that evidence can still
say "the same lease" without handing out the credential.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[REDACTED]"
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie"}

# Secrets the current process knows about (license keys, tokens); registered by
# whoever creates or reads them, so free text can be scrubbed too.
_known: set[str] = set()

_LEASE_RE = re.compile(r"llt_[A-Za-z0-9_\-]{8,}")
# "License <key>" / "Bearer <token>" as sent in a header: a credential is one
# word of 8+ characters; prose such as "license B" is left alone.
_AUTH_RE = re.compile(r"((?:License|Bearer)\s+)(?=[^\s\"',}]{8,})[^\s\"',}]+")
_JSON_SECRET_RE = re.compile(r'("(?:license_key|token|management_token|lease_token)"\s*:\s*")([^"]*)(")')


def register_secret(*values: str | None) -> None:
    """Remember secrets so that `redact_text` removes them wherever they appear, also
    as a message quotes them: escaped, as in a repr of the text or of its bytes
    (`Illegal header value b'Bearer abc\\ndef'`) or in JSON."""
    for v in values:
        if v and len(v) >= 6:
            _known.update(_quoted_forms(v))


def _quoted_forms(secret: str) -> set[str]:
    """The secret and the escaped forms it takes inside a repr or a JSON string."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    forms.add(repr(secret.encode("utf-8", "backslashreplace"))[2:-1])
    return {f for f in forms if len(f) >= 6}


def lease_ref(token: str | None) -> str | None:
    """A stable, non-secret name for a lease token."""
    if token is None:
        return None
    return f"llt_…#{hashlib.sha256(token.encode()).hexdigest()[:8]}"


def redact_text(text: str) -> str:
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _AUTH_RE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _JSON_SECRET_RE.sub(
        lambda m: (
            m.group(1) + ((lease_ref(m.group(2)) or "") if m.group(2).startswith("llt_") else REDACTED) + m.group(3)
        ),
        text,
    )
    return _LEASE_RE.sub(lambda m: lease_ref(m.group(0)) or "", text)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for k, v in headers.items():
        if k.lower() in _SECRET_HEADERS:
            scheme = v.split(" ", 1)[0] if " " in v else ""
            out[k] = f"{scheme} {REDACTED}".strip()
        else:
            out[k] = redact_text(v)
    return out


def redact_obj(value: Any) -> Any:
    """Redact every string inside a JSON-like structure."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if k in ("license_key", "management_token", "token") else redact_obj(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact_obj(v) for v in value]
    return value


def known_secrets() -> Iterable[str]:
    return frozenset(_known)


# What a leaked credential looks like in a finished report (already-redacted
# forms such as "Bearer [REDACTED]" and "llt_…#3fa2c1d0" do not match).
_SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a lease token", re.compile(r"llt_[A-Za-z0-9_\-]{8,}")),
    (
        "a credential after License/Bearer",
        re.compile(r"\b(?:License|Bearer)\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=\-]{16,}"),
    ),
    (
        "an unredacted key or token field",
        re.compile(r'"(?:license_key|management_token|token|lease_token)"\s*:\s*"(?!\[REDACTED\]|llt_…)[^"]+"'),
    ),
)


def find_secrets(text: str) -> list[str]:
    """What kinds of secret `text` seems to contain (never the secret itself):
    shapes of license keys, bearer tokens and lease tokens, and any secret this
    process registered. Empty when the text is clean."""
    found = [name for name, rx in _SECRET_SHAPES if rx.search(text)]
    if any(s in text for s in _known):
        found.append("a secret this run used")
    return found
