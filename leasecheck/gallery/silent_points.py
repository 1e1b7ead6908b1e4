"""Every place the facts leave open, and the honest variants that make each choice.

The facts file (`../shared/reference/licensekit-floating-facts.md`, section
"Where the sources are silent") lists the points where honest servers may
differ. A suite that fails or warns a server for one of those choices is
wrong, and the only proof that it does not is a server making the other
choice that passes (the matrix runs every variant). This table is that
mapping, written down so that a silent point without a variant is visible:
tests/gallery/test_silent_points.py matches every bullet of that section to
one entry here, and every named variant to `variants.VARIANTS`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SilentPoint:
    facts: str  # words of the facts file's bullet that identify it (matched case-insensitively)
    choices: dict[str, tuple[str, ...]]  # an honest answer -> the variants that give it ("default" included)


SILENT_POINTS: tuple[SilentPoint, ...] = (
    SilentPoint(
        "Which of 403 / 409 over-capacity returns",
        {
            "over capacity 409": ("default",),
            "over capacity 403": ("status-403",),
            "code FLOATING_LIMIT_EXCEEDED": ("default",),
            "code ACTIVATION_LIMIT_EXCEEDED (LicenseKit's documented activation code)": ("status-403",),
            "a code that names no limit (FLOATING_POOL_FULL)": ("codes-alt",),
        },
    ),
    SilentPoint(
        "a fingerprint that already holds a lease",
        {
            "the held lease again": ("default",),
            "another seat": ("new-seat-per-fingerprint",),
            "refused while the lease is held (422 FINGERPRINT_TAKEN)": ("holder-refused",),
        },
    ),
    SilentPoint(
        "of an expired, unknown or checked-in lease returns",
        {
            "refused 404": ("default",),
            "refused 409": ("dead-lease-409",),
            "refused 422": ("dead-lease-422",),
            "checkin of an ended lease: 200, freeing nothing": ("checkin-ended-no-op",),
            "an expired lease stays dead": ("default",),
            "an expired lease revived while its seat is free": ("revive-when-free", "revival-counts-seats"),
            "a revival into a full pool refused as over capacity (403)": ("revival-counts-seats",),
        },
    ),
    SilentPoint(
        "What an `Idempotency-Key` reused with a different body returns",
        {
            "a changed body refused 422": ("default",),
            "a changed body refused 409": ("status-403",),
            "a changed body refused 400": ("key-conflict-400",),
            "keys kept a day": ("default",),
            "keys kept two minutes": ("keys-kept-briefly",),
            "a concurrent duplicate waits for the first and gets its answer": ("default",),
            "a concurrent duplicate refused 409 while the first is in flight": ("in-flight-409",),
            "a concurrent duplicate asked to retry (503, Retry-After)": ("in-flight-503",),
        },
    ),
    SilentPoint(
        "The default `floating_timeout_minutes`",
        {
            "10 minutes when a policy names none": ("default",),
            "30 minutes when a policy names none": ("default-timeout-30",),
            "a heartbeat is valid up to lease_expires_at": ("default",),
            "a heartbeat in the last 5 % of the lease refused": ("late-heartbeat-cutoff",),
            "a heartbeat just after lease_expires_at revives a lease whose seat is free": ("revive-when-free",),
        },
    ),
    SilentPoint(
        "What `lease_expires_at` in a checkin answer holds",
        {"the instant the lease ended": ("default",), "the expiry the lease had": ("checkin-keeps-expiry",)},
    ),
    SilentPoint(
        "Whether a JSON `null` in an optional request field",
        {"refused as a wrong type (400)": ("default",), "read as absent": ("null-as-absent",)},
    ),
    SilentPoint(
        "Whether a replay sends `Idempotent-Replayed`",
        {
            "Idempotent-Replayed: true": ("default",),
            "no header": ("no-replayed-header", "replay-stored-bytes"),
            "re-signed with a fresh meta": ("default", "no-replayed-header"),
            "the stored bytes (first request id and timestamp)": ("replay-stored-bytes",),
        },
    ),
    SilentPoint(
        "Whether answers carry fields beyond the required ones",
        {
            "only the contract's fields": ("default",),
            "extra fields in signed data": ("extra-fields",),
            "tokens of 32 characters after llt_": ("default",),
            "tokens of 20 characters (128 bits in Z85)": ("short-lease-tokens",),
            "tokens of 600 characters": ("long-lease-tokens",),
        },
    ),
)

#: Variants whose choice the facts allow outside their silent section (the catalogue accepts
#: several answers there): the variant -> words of the facts that allow it (matched
#: case-insensitively, like `SilentPoint.facts`).
ALLOWED_ELSEWHERE: dict[str, str] = {
    "offset-timestamps": "RFC 3339 date-time",
    "short-limits": "A server may impose limits",
    "short-limits-uncoded": "A server may impose limits",
    "revoked-401": "401: missing or invalid license credentials",
    "no-seats-422": "422: valid JSON that fails business validation",
}
