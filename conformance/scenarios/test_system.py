"""system: health, readiness, metrics and public keys."""

from __future__ import annotations

import base64
import binascii
import re

import pytest

# One Prometheus text-format sample: name, optional {labels}, value, optional timestamp.
SAMPLE = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*(\{.*\})?\s+\S+(\s+-?\d+)?$")
PROMETHEUS_TYPES = ("text/plain", "application/openmetrics-text")

#: The server's own endpoints, no license of their own: pytest runs them in turn (conftest.py).
pytestmark = pytest.mark.serial("server-wide endpoints, no license of its own")


@pytest.mark.requirement("SYS-01")
def test_health(target, expect):
    """Load balancers and the suite's own probe ask /health and /healthz."""
    for path in ("/health", "/healthz"):
        ex = target.system.health(path)
        expect.status("SYS-01", ex, [200], f"GET {path}")
        data = ex.data
        status = data.get("status") if isinstance(data, dict) else None
        expect("SYS-01", status == "ok", f"GET {path}: data.status is {status!r}, not 'ok'", ex)


@pytest.mark.requirement("SYS-02")
def test_readiness(target, expect):
    """Orchestrators route traffic on /readyz: ready with the database state,
    or 503 not_ready."""
    ex = target.system.health("/readyz")
    expect.status("SYS-02", ex, [200, 503], "GET /readyz")
    data = ex.data if isinstance(ex.data, dict) else {}
    if ex.status == 200:
        expect(
            "SYS-02",
            data.get("status") == "ready" and "db" in data,
            f"GET /readyz 200: data is {data!r}, not {{status: 'ready', db: ...}}",
            ex,
        )
    else:
        expect.note("SYS-02", "the target reported not_ready")
        expect(
            "SYS-02",
            data.get("status") == "not_ready",
            f"GET /readyz 503: data.status is {data.get('status')!r}, not 'not_ready'",
            ex,
        )


@pytest.mark.requirement("SYS-03")
def test_metrics(target, expect):
    """Operators scrape /metrics; it should be Prometheus text."""
    ex = target.http.request("GET", "/metrics", operation="metrics")
    if not expect.status("SYS-03", ex, [200], "GET /metrics"):
        return
    ctype = (ex.header("content-type") or "").lower()
    expect(
        "SYS-03", ctype.startswith(PROMETHEUS_TYPES), f"GET /metrics: Content-Type {ctype!r} is not Prometheus text", ex
    )
    lines = [ln.strip() for ln in ex.response_body.decode("utf-8", "replace").splitlines()]
    samples = [ln for ln in lines if ln and not ln.startswith("#")]
    bad = [ln for ln in samples if not SAMPLE.match(ln)]
    expect("SYS-03", samples, "GET /metrics: the body holds no samples", ex)
    expect("SYS-03", not bad, f"GET /metrics: {len(bad)} lines are not Prometheus samples, e.g. {bad[:1]!r}", ex)


@pytest.mark.requirement("SYS-04")
def test_public_keys_need_no_credentials(target, expect):
    """Clients verify signatures before they have any lease, so the keys are public."""
    ex = target.system.public_keys()
    expect.status("SYS-04", ex, [200], "GET /api/v1/system/public-keys without credentials")
    expect("SYS-04", isinstance(ex.data, list), "public-keys data is not a list", ex)


@pytest.mark.area("signatures")
@pytest.mark.requirement("SIG-05")
def test_public_keys_are_well_formed(target, expect):
    """The SDKs look keys up by kid, refuse anything but Ed25519 and decode a raw
    32-byte key; a malformed entry makes every answer it signed unverifiable."""
    ex = target.system.public_keys()
    expect.status("SIG-05", ex, [200], "GET /api/v1/system/public-keys")
    keys = ex.data
    expect("SIG-05", isinstance(keys, list) and keys, "no public keys are published", ex)
    for i, k in enumerate(keys):
        name = f"key {i}" + (f" ({k.get('kid')!r})" if isinstance(k, dict) else "")
        expect("SIG-05", isinstance(k, dict), f"{name} is not an object", ex)
        expect("SIG-05", isinstance(k.get("kid"), str) and k["kid"], f"{name} has no kid", ex)
        expect(
            "SIG-05", k.get("algorithm") == "Ed25519", f"{name}: algorithm is {k.get('algorithm')!r}, not 'Ed25519'", ex
        )
        raw = None
        if isinstance(k.get("public_key"), str):
            try:
                raw = base64.b64decode(k["public_key"], validate=True)
            except (binascii.Error, ValueError):
                raw = None
        expect(
            "SIG-05",
            raw is not None and len(raw) == 32,
            f"{name}: public_key is not base64 of 32 raw bytes "
            f"({'not base64' if raw is None else f'{len(raw)} bytes'})",
            ex,
        )
        expect("SIG-05", k.get("status") in ("active", "retired"), f"{name}: status is {k.get('status')!r}", ex)
        expect("SIG-05", isinstance(k.get("created_at"), str) and k["created_at"], f"{name} has no created_at", ex)
    active = [k for k in keys if k.get("status") == "active"]
    expect("SIG-05", active, "no published key is active", ex)
